using System;
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// A multilayer perceptron with a linear output layer, its parameters in one flat span: for each layer its weights
/// W (in, out), row-major, then its bias b (out). Forward and backward passes over a batch of rows.
/// </summary>
internal sealed class Mlp<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _sizes;
    private readonly int[] _offsets;

    /// <param name="sizes">Input size, hidden sizes, output size.</param>
    /// <param name="activation">The hidden layers' nonlinearity.</param>
    public Mlp(ReadOnlySpan<int> sizes, Activation activation)
    {
        if (sizes.Length < 2)
        {
            throw new ArgumentException("An MLP needs an input and an output size.", nameof(sizes));
        }

        _sizes = sizes.ToArray();
        Activation = activation;
        _offsets = new int[_sizes.Length];
        int offset = 0;
        for (int l = 1; l < _sizes.Length; l++)
        {
            _offsets[l] = offset;
            offset += (_sizes[l - 1] + 1) * _sizes[l];
        }

        ParameterCount = offset;
    }

    public Activation Activation { get; }

    public int InputSize => _sizes[0];

    public int OutputSize => _sizes[^1];

    /// <summary>Number of weight layers.</summary>
    public int LayerCount => _sizes.Length - 1;

    public int ParameterCount { get; }

    public ReadOnlySpan<int> Sizes => _sizes;

    /// <summary>Where the weights W (in, out) of layer <paramref name="layer"/> (1-based) start.</summary>
    public int WeightOffset(int layer) => _offsets[layer];

    /// <summary>Where the bias of layer <paramref name="layer"/> (1-based) starts.</summary>
    public int BiasOffset(int layer) => _offsets[layer] + _sizes[layer - 1] * _sizes[layer];

    /// <summary>Glorot-uniform weights (He-uniform before ReLU and Mish), zero biases.</summary>
    public void Initialize(Span<T> parameters, ref SplitMix64 random)
    {
        parameters.Clear();
        for (int l = 1; l <= LayerCount; l++)
        {
            int fanIn = _sizes[l - 1];
            int fanOut = _sizes[l];
            bool hidden = l < LayerCount;
            double limit = hidden && Activation != Activation.Tanh ? Math.Sqrt(6.0 / fanIn) : Math.Sqrt(6.0 / (fanIn + fanOut));
            var weights = parameters.Slice(WeightOffset(l), fanIn * fanOut);
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] = T.CreateTruncating((2.0 * random.NextDouble() - 1.0) * limit);
            }
        }
    }

    /// <summary>Buffers for batches of up to <paramref name="maxRows"/> rows; pooled ones must be disposed.</summary>
    public Workspace CreateWorkspace(int maxRows, bool pooled = true) => new(this, maxRows, pooled);

    /// <summary>Runs <paramref name="rows"/> rows of <paramref name="input"/> (rows, in) through the network; returns the output (rows, out), valid until the next call.</summary>
    public Span<T> Forward(ReadOnlySpan<T> parameters, ReadOnlySpan<T> input, int rows, Workspace workspace)
    {
        if (rows > workspace.MaxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"The workspace holds {workspace.MaxRows} rows, not {rows}.");
        }

        // The input may already be in place (see Workspace.Input).
        var first = workspace.Activations(0, rows);
        var source = input[..(rows * InputSize)];
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(first)))
        {
            source.CopyTo(first);
        }

        for (int l = 1; l <= LayerCount; l++)
        {
            int fanIn = _sizes[l - 1];
            int fanOut = _sizes[l];
            var x = workspace.Activations(l - 1, rows); // (rows, in)
            var z = workspace.PreActivations(l, rows);  // (rows, out)
            var bias = parameters.Slice(BiasOffset(l), fanOut);
            for (int r = 0; r < rows; r++)
            {
                bias.CopyTo(z.Slice(r * fanOut, fanOut));
            }

            Gemm.Multiply<T>(x, parameters.Slice(WeightOffset(l), fanIn * fanOut), z, rows, fanIn, fanOut, accumulate: true);
            if (l < LayerCount)
            {
                Activations.Forward<T>(Activation, z, workspace.Activations(l, rows));
            }
        }

        return workspace.PreActivations(LayerCount, rows);
    }

    /// <summary>
    /// Back-propagates <paramref name="outputGradient"/> (rows, out) through the last <see cref="Forward"/> of this workspace and
    /// adds the parameter gradient to <paramref name="gradient"/>. <paramref name="outputGradient"/> is used as scratch.
    /// </summary>
    public void Backward(ReadOnlySpan<T> parameters, Workspace workspace, int rows, Span<T> outputGradient, Span<T> gradient)
    {
        Span<T> delta = outputGradient[..(rows * OutputSize)]; // dL/dz of the current layer, (rows, out)
        bool inFirst = false;
        for (int l = LayerCount; l >= 1; l--)
        {
            int fanIn = _sizes[l - 1];
            int fanOut = _sizes[l];
            var x = workspace.Activations(l - 1, rows); // (rows, in)
            Gemm.MultiplyTransposedA<T>(x, delta, gradient.Slice(WeightOffset(l), fanIn * fanOut), fanIn, rows, fanOut, accumulate: true);
            var biasGradient = gradient.Slice(BiasOffset(l), fanOut);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Add(biasGradient, delta.Slice(r * fanOut, fanOut), biasGradient);
            }

            if (l == 1)
            {
                break;
            }

            var wt = workspace.Scratch(fanOut * fanIn); // (out, in)
            Gemm.Transpose<T>(parameters.Slice(WeightOffset(l), fanIn * fanOut), wt, fanIn, fanOut);
            var next = workspace.Delta(inFirst ? 1 : 0, rows * fanIn); // dL/da of layer l-1, (rows, in)
            Gemm.Multiply<T>(delta, wt, next, rows, fanOut, fanIn, accumulate: false);
            Activations.Backward<T>(Activation, workspace.PreActivations(l - 1, rows), workspace.Activations(l - 1, rows), next, next);
            delta = next;
            inFirst = !inFirst;
        }
    }

    /// <summary>Buffers for one batch of at most <see cref="MaxRows"/> rows, rented from the array pool and returned on dispose.</summary>
    internal sealed class Workspace : IDisposable
    {
        private readonly Mlp<T> _mlp;
        private readonly T[][] _activations;
        private readonly T[][] _preActivations;
        private readonly T[] _scratch;
        private readonly T[][] _delta;
        private readonly bool _pooled;
        private bool _disposed;

        public Workspace(Mlp<T> mlp, int maxRows, bool pooled)
        {
            _mlp = mlp;
            _pooled = pooled;
            MaxRows = maxRows;
            int layers = mlp._sizes.Length;
            int widest = 0;
            foreach (int size in mlp._sizes)
            {
                widest = Math.Max(widest, size);
            }

            _activations = new T[layers][];
            _preActivations = new T[layers][];
            for (int l = 0; l < layers; l++)
            {
                _activations[l] = Rent(maxRows * mlp._sizes[l]);
                _preActivations[l] = l == 0 ? _activations[0] : Rent(maxRows * mlp._sizes[l]);
            }

            _scratch = Rent(widest * widest);
            _delta = new[] { Rent(maxRows * widest), Rent(maxRows * widest) };
        }

        public int MaxRows { get; }

        private T[] Rent(int length) => _pooled ? ArrayPool<T>.Shared.Rent(length) : new T[length];

        // Tanh and ReLU layers: f(z) is kept next to z; the linear output layer has only z.
        public Span<T> Activations(int layer, int rows) => _activations[layer].AsSpan(0, rows * _mlp._sizes[layer]);

        public Span<T> PreActivations(int layer, int rows) => _preActivations[layer].AsSpan(0, rows * _mlp._sizes[layer]);

        public Span<T> Scratch(int length) => _scratch.AsSpan(0, length);

        /// <summary>Where <see cref="Forward"/> keeps its input: an input written here is not copied again.</summary>
        public Span<T> Input(int rows) => Activations(0, rows);

        public Span<T> Delta(int which, int length) => _delta[which].AsSpan(0, length);

        public void Dispose()
        {
            if (_disposed || !_pooled)
            {
                return;
            }

            _disposed = true;
            for (int l = 0; l < _activations.Length; l++)
            {
                ArrayPool<T>.Shared.Return(_activations[l]);
                if (l > 0)
                {
                    ArrayPool<T>.Shared.Return(_preActivations[l]);
                }
            }

            ArrayPool<T>.Shared.Return(_scratch);
            ArrayPool<T>.Shared.Return(_delta[0]);
            ArrayPool<T>.Shared.Return(_delta[1]);
        }
    }
}
