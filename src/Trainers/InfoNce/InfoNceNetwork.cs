using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Threading.Tasks;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.InfoNce;

/// <summary>
/// Two projection heads and a learned log logit scale t, parameters in one flat span: [head A | head B | t].
/// The symmetric InfoNCE loss of a batch of pairs: logits = e^t zA zB^T over L2-normalized projections, cross-entropy of each row
/// against its partner in both directions, averaged: (loss_A->B + loss_B->A) / 2. Entries of different groups are masked out.
/// </summary>
internal sealed class InfoNceNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public InfoNceNetwork(int sizeA, int sizeB, ReadOnlySpan<int> hiddenSizes, int embeddingSize, Activation activation)
    {
        HeadA = new Mlp<T>(Sizes(sizeA, hiddenSizes, embeddingSize), activation);
        HeadB = new Mlp<T>(Sizes(sizeB, hiddenSizes, embeddingSize), activation);
        EmbeddingSize = embeddingSize;
    }

    public Mlp<T> HeadA { get; }

    public Mlp<T> HeadB { get; }

    public int EmbeddingSize { get; }

    public int OffsetB => HeadA.ParameterCount;

    public int LogScaleIndex => HeadA.ParameterCount + HeadB.ParameterCount;

    public int ParameterCount => LogScaleIndex + 1;

    public void Initialize(Span<T> parameters, ref SplitMix64 random, double logScale)
    {
        HeadA.Initialize(parameters[..OffsetB], ref random);
        HeadB.Initialize(parameters.Slice(OffsetB, HeadB.ParameterCount), ref random);
        parameters[LogScaleIndex] = T.CreateTruncating(logScale);
    }

    /// <summary>Projects and L2-normalizes rows: dst (rows, E).</summary>
    public static void Embed(Mlp<T> head, ReadOnlySpan<T> headParameters, ReadOnlySpan<T> input, int rows, Mlp<T>.Workspace workspace, Span<T> dst)
    {
        var u = head.Forward(headParameters, input, rows, workspace);
        int e = head.OutputSize;
        for (int r = 0; r < rows; r++)
        {
            Normalize(u.Slice(r * e, e), dst.Slice(r * e, e));
        }
    }

    /// <summary>
    /// Mean symmetric loss of a batch of <paramref name="rows"/> pairs; when <paramref name="gradient"/> is not empty, adds its gradient.
    /// <paramref name="groups"/> (empty: one group) masks pairs of different groups out of each other's negatives.
    /// </summary>
    public double LossAndGradient(ReadOnlySpan<T> parameters, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<int> groups, int rows,
        Span<T> gradient, Buffers buffers, bool parallel)
    {
        int e = EmbeddingSize;
        T scale = T.Exp(parameters[LogScaleIndex]);
        var ua = buffers.Ua.AsSpan(0, rows * e);
        var ub = buffers.Ub.AsSpan(0, rows * e);
        var za = buffers.Za.AsSpan(0, rows * e);
        var zb = buffers.Zb.AsSpan(0, rows * e);

        // Forward both heads (in parallel: they share nothing).
        var aArray = buffers.InputA;
        var bArray = buffers.InputB;
        a[..(rows * HeadA.InputSize)].CopyTo(aArray);
        b[..(rows * HeadB.InputSize)].CopyTo(bArray);
        var pArray = buffers.Parameters;
        parameters.CopyTo(pArray);
        RunBoth(parallel,
            () => HeadA.Forward(pArray.AsSpan(0, OffsetB), aArray, rows, buffers.WorkspaceA).CopyTo(buffers.Ua),
            () => HeadB.Forward(pArray.AsSpan(OffsetB, HeadB.ParameterCount), bArray, rows, buffers.WorkspaceB).CopyTo(buffers.Ub));
        for (int r = 0; r < rows; r++)
        {
            Normalize(ua.Slice(r * e, e), za.Slice(r * e, e));
            Normalize(ub.Slice(r * e, e), zb.Slice(r * e, e));
        }

        // cos (rows, rows) = zA zB^T
        var zbT = buffers.Scratch.AsSpan(0, e * rows);
        Gemm.Transpose<T>(zb, zbT, rows, e);
        var cos = buffers.Cosine.AsSpan(0, rows * rows);
        Gemm.Multiply<T>(za, zbT, cos, rows, e, rows, accumulate: false);

        // Logits, with entries of different groups at -inf; softmax of each row (A->B) and of each column (B->A, as rows of the transpose).
        var logits = buffers.Logits.AsSpan(0, rows * rows);
        TensorPrimitives.Multiply(cos, scale, logits);
        if (!groups.IsEmpty)
        {
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < rows; j++)
                {
                    if (groups[i] != groups[j])
                    {
                        logits[i * rows + j] = T.NegativeInfinity;
                    }
                }
            }
        }

        // G = dLoss/dlogits = (P_rows - I) / 2B + ((P_cols - I) / 2B)
        var g = buffers.LogitGradient.AsSpan(0, rows * rows);
        var transposed = buffers.Scratch.AsSpan(0, rows * rows);
        var columnGradient = buffers.ColumnGradient.AsSpan(0, rows * rows);
        T inverse = T.One / T.CreateTruncating(2 * rows);
        double loss = SoftmaxCrossEntropy(logits, g, rows, inverse);
        Gemm.Transpose<T>(logits, transposed, rows, rows);
        loss += SoftmaxCrossEntropy(transposed, columnGradient, rows, inverse);
        Gemm.Transpose<T>(columnGradient, transposed, rows, rows);
        TensorPrimitives.Add(g, transposed, g);

        loss /= 2 * rows;
        if (gradient.IsEmpty)
        {
            return loss;
        }

        // dt = sum G o logits; dzA = s G zB; dzB = s G^T zA.
        T dt = T.Zero;
        for (int i = 0; i < g.Length; i++)
        {
            dt += g[i] * cos[i];
        }

        gradient[LogScaleIndex] += dt * scale;
        var dza = buffers.Dza.AsSpan(0, rows * e);
        var dzb = buffers.Dzb.AsSpan(0, rows * e);
        Gemm.Multiply<T>(g, zb, dza, rows, rows, e, accumulate: false);
        var gT = buffers.Scratch.AsSpan(0, rows * rows);
        Gemm.Transpose<T>(g, gT, rows, rows);
        Gemm.Multiply<T>(gT, za, dzb, rows, rows, e, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            NormalizeBackward(ua.Slice(r * e, e), za.Slice(r * e, e), dza.Slice(r * e, e), scale);
            NormalizeBackward(ub.Slice(r * e, e), zb.Slice(r * e, e), dzb.Slice(r * e, e), scale);
        }

        var gArray = buffers.Gradient;
        Array.Clear(gArray);
        RunBoth(parallel,
            () => HeadA.Backward(pArray.AsSpan(0, OffsetB), buffers.WorkspaceA, rows, buffers.Dza.AsSpan(0, rows * e), gArray.AsSpan(0, OffsetB)),
            () => HeadB.Backward(pArray.AsSpan(OffsetB, HeadB.ParameterCount), buffers.WorkspaceB, rows, buffers.Dzb.AsSpan(0, rows * e),
                gArray.AsSpan(OffsetB, HeadB.ParameterCount)));
        for (int i = 0; i < LogScaleIndex; i++)
        {
            gradient[i] += gArray[i];
        }

        return loss;
    }

    public Buffers CreateBuffers(int maxRows) => new(this, maxRows);

    // Rows of logits (rows, rows): writes (softmax - I) * inverse into gradient; returns the sum over rows of logZ_i - logit_ii.
    private static double SoftmaxCrossEntropy(ReadOnlySpan<T> logits, Span<T> gradient, int rows, T inverse)
    {
        double loss = 0;
        for (int i = 0; i < rows; i++)
        {
            var row = logits.Slice(i * rows, rows);
            var p = gradient.Slice(i * rows, rows);
            T max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, p);
            TensorPrimitives.Exp(p, p);
            T sum = TensorPrimitives.Sum<T>(p);
            T logZ = max + T.Log(sum);
            loss += double.CreateTruncating(logZ - row[i]);
            TensorPrimitives.Multiply(p, inverse / sum, p);
            p[i] -= inverse;
        }

        return loss;
    }

    private static void RunBoth(bool parallel, Action first, Action second)
    {
        if (parallel)
        {
            Parallel.Invoke(first, second);
        }
        else
        {
            first();
            second();
        }
    }

    private static void Normalize(ReadOnlySpan<T> u, Span<T> z)
    {
        T norm = T.Zero;
        foreach (T v in u)
        {
            norm += v * v;
        }

        norm = T.Max(T.Sqrt(norm), T.CreateTruncating(1e-12));
        for (int i = 0; i < u.Length; i++)
        {
            z[i] = u[i] / norm;
        }
    }

    // dz arrives without the scale; du = s (dz - z (z . dz)) / ||u||, written over dz.
    private static void NormalizeBackward(ReadOnlySpan<T> u, ReadOnlySpan<T> z, Span<T> dz, T scale)
    {
        T norm = T.Zero;
        T dot = T.Zero;
        for (int i = 0; i < u.Length; i++)
        {
            norm += u[i] * u[i];
            dot += z[i] * dz[i];
        }

        norm = T.Max(T.Sqrt(norm), T.CreateTruncating(1e-12));
        for (int i = 0; i < u.Length; i++)
        {
            dz[i] = scale * (dz[i] - z[i] * dot) / norm;
        }
    }

    /// <summary>Per-batch buffers (arrays, so both heads can run on two threads).</summary>
    internal sealed class Buffers : IDisposable
    {
        public Buffers(InfoNceNetwork<T> network, int maxRows)
        {
            int e = network.EmbeddingSize;
            InputA = new T[maxRows * network.HeadA.InputSize];
            InputB = new T[maxRows * network.HeadB.InputSize];
            Parameters = new T[network.ParameterCount];
            Gradient = new T[network.ParameterCount];
            Ua = new T[maxRows * e];
            Ub = new T[maxRows * e];
            Za = new T[maxRows * e];
            Zb = new T[maxRows * e];
            Dza = new T[maxRows * e];
            Dzb = new T[maxRows * e];
            Cosine = new T[maxRows * maxRows];
            LogitGradient = new T[maxRows * maxRows];
            Logits = new T[maxRows * maxRows];
            ColumnGradient = new T[maxRows * maxRows];
            Scratch = new T[Math.Max(maxRows * maxRows, maxRows * e)];
            WorkspaceA = network.HeadA.CreateWorkspace(maxRows);
            WorkspaceB = network.HeadB.CreateWorkspace(maxRows);
        }

        public T[] InputA { get; }

        public T[] InputB { get; }

        public T[] Parameters { get; }

        public T[] Gradient { get; }

        public T[] Ua { get; }

        public T[] Ub { get; }

        public T[] Za { get; }

        public T[] Zb { get; }

        public T[] Dza { get; }

        public T[] Dzb { get; }

        public T[] Cosine { get; }

        public T[] LogitGradient { get; }

        public T[] Logits { get; }

        public T[] ColumnGradient { get; }

        public T[] Scratch { get; }

        public Mlp<T>.Workspace WorkspaceA { get; }

        public Mlp<T>.Workspace WorkspaceB { get; }

        public void Dispose()
        {
            WorkspaceA.Dispose();
            WorkspaceB.Dispose();
        }
    }

    private static int[] Sizes(int input, ReadOnlySpan<int> hidden, int output)
    {
        var sizes = new int[hidden.Length + 2];
        sizes[0] = input;
        hidden.CopyTo(sizes.AsSpan(1));
        sizes[^1] = output;
        return sizes;
    }
}
