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
        InfoNceKernels.Normalize<T>(u, dst, Span<T>.Empty, rows, head.OutputSize);
    }

    /// <summary>
    /// Mean symmetric loss of a batch of <paramref name="rows"/> pairs; when <paramref name="gradient"/> is not empty, adds its gradient.
    /// <paramref name="groups"/> (empty: one group) masks pairs of different groups out of each other's negatives.
    /// With <paramref name="parallel"/>, the two heads (and the two halves of the similarity matrix) run on two threads.
    /// </summary>
    public double LossAndGradient(ReadOnlySpan<T> parameters, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<int> groups, int rows,
        Span<T> gradient, Buffers buffers, bool parallel)
    {
        int e = EmbeddingSize;
        T scale = T.Exp(parameters[LogScaleIndex]);

        // Forward both heads (in parallel: they share nothing), each straight from its workspace's input, then L2-normalize.
        a[..(rows * HeadA.InputSize)].CopyTo(buffers.WorkspaceA.Input(rows));
        b[..(rows * HeadB.InputSize)].CopyTo(buffers.WorkspaceB.Input(rows));
        var pArray = buffers.Parameters;
        parameters.CopyTo(pArray);
        RunBoth(parallel,
            () => ForwardHead(HeadA, pArray.AsSpan(0, OffsetB), rows, buffers.WorkspaceA, buffers.Za, buffers.NormA, null),
            () => ForwardHead(HeadB, pArray.AsSpan(OffsetB, HeadB.ParameterCount), rows, buffers.WorkspaceB, buffers.Zb, buffers.NormB, buffers.ZbT));

        // cos (rows, rows) = zA zB^T, by halves of rows.
        int half = rows / 2;
        RunBoth(parallel,
            () => Gemm.Multiply<T>(buffers.Za, buffers.ZbT, buffers.Cosine, half, e, rows, accumulate: false),
            () => Gemm.Multiply<T>(buffers.Za.AsSpan(half * e), buffers.ZbT, buffers.Cosine.AsSpan(half * rows), rows - half, e, rows, accumulate: false));

        // G = dLoss/dlogits = (P_rows - I) / 2B + (P_cols - I) / 2B, from logits = s cos (entries of different groups at -inf):
        // softmax of each row (A->B) and of each column (B->A) without transposing. dt = sum G o logits = s sum G o cos.
        double loss = InfoNceKernels.SoftmaxCrossEntropy<T>(buffers.Cosine, scale, groups, rows, buffers.LogitGradient, buffers.ColumnProbabilities,
            buffers.Rows, !gradient.IsEmpty, out T dt) / (2 * rows);
        if (gradient.IsEmpty)
        {
            return loss;
        }

        gradient[LogScaleIndex] += dt * scale;

        // dzA = s G zB and dzB = s G^T zA, through the normalization and each head (in parallel).
        var gArray = buffers.Gradient;
        Array.Clear(gArray);
        RunBoth(parallel,
            () =>
            {
                var dza = buffers.Dza.AsSpan(0, rows * e);
                Gemm.Multiply<T>(buffers.LogitGradient, buffers.Zb, dza, rows, rows, e, accumulate: false);
                InfoNceKernels.NormalizeBackward<T>(buffers.Za, buffers.NormA, dza, rows, e, scale);
                HeadA.Backward(pArray.AsSpan(0, OffsetB), buffers.WorkspaceA, rows, dza, gArray.AsSpan(0, OffsetB));
            },
            () =>
            {
                var dzb = buffers.Dzb.AsSpan(0, rows * e);
                Gemm.MultiplyTransposedA<T>(buffers.LogitGradient, buffers.Za, dzb, rows, rows, e, accumulate: false);
                InfoNceKernels.NormalizeBackward<T>(buffers.Zb, buffers.NormB, dzb, rows, e, scale);
                HeadB.Backward(pArray.AsSpan(OffsetB, HeadB.ParameterCount), buffers.WorkspaceB, rows, dzb, gArray.AsSpan(OffsetB, HeadB.ParameterCount));
            });
        TensorPrimitives.Add(gradient[..LogScaleIndex], gArray.AsSpan(0, LogScaleIndex), gradient[..LogScaleIndex]);
        return loss;
    }

    public Buffers CreateBuffers(int maxRows) => new(this, maxRows);

    // z = u / ||u|| row by row, keeping the norms for the backward pass; zT (E, rows) too when asked.
    private static void ForwardHead(Mlp<T> head, ReadOnlySpan<T> headParameters, int rows, Mlp<T>.Workspace workspace, T[] z, T[] norms, T[]? zT)
    {
        var u = head.Forward(headParameters, workspace.Input(rows), rows, workspace);
        InfoNceKernels.Normalize<T>(u, z, norms, rows, head.OutputSize);
        if (zT != null)
        {
            Gemm.Transpose<T>(z, zT, rows, head.OutputSize);
        }
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

    /// <summary>Per-batch buffers (arrays, so both heads can run on two threads).</summary>
    internal sealed class Buffers : IDisposable
    {
        public Buffers(InfoNceNetwork<T> network, int maxRows)
        {
            int e = network.EmbeddingSize;
            Parameters = new T[network.ParameterCount];
            Gradient = new T[network.ParameterCount];
            Za = new T[maxRows * e];
            Zb = new T[maxRows * e];
            ZbT = new T[e * maxRows];
            NormA = new T[maxRows];
            NormB = new T[maxRows];
            Dza = new T[maxRows * e];
            Dzb = new T[maxRows * e];
            Cosine = new T[maxRows * maxRows];
            LogitGradient = new T[maxRows * maxRows];
            ColumnProbabilities = new T[maxRows * maxRows];
            Rows = new T[4 * maxRows];
            WorkspaceA = network.HeadA.CreateWorkspace(maxRows);
            WorkspaceB = network.HeadB.CreateWorkspace(maxRows);
        }

        public T[] Parameters { get; }

        public T[] Gradient { get; }

        public T[] Za { get; }

        public T[] Zb { get; }

        /// <summary>zB^T (E, rows).</summary>
        public T[] ZbT { get; }

        public T[] NormA { get; }

        public T[] NormB { get; }

        public T[] Dza { get; }

        public T[] Dzb { get; }

        public T[] Cosine { get; }

        public T[] LogitGradient { get; }

        /// <summary>Unnormalized column softmax, e^(logit - column max).</summary>
        public T[] ColumnProbabilities { get; }

        /// <summary>Four vectors of one per row: the softmax kernel's scratch.</summary>
        public T[] Rows { get; }

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
