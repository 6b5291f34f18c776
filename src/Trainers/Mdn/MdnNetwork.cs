using System;
using System.Numerics;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Mdn;

/// <summary>An MLP whose linear output feeds an <see cref="MdnHead"/>: loss and gradient of a batch, with the Gaussian prior on the weights.</summary>
internal sealed class MdnNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public MdnNetwork(int featureCount, ReadOnlySpan<int> hiddenSizes, Activation activation, MdnHead head)
    {
        Span<int> sizes = stackalloc int[hiddenSizes.Length + 2];
        sizes[0] = featureCount;
        hiddenSizes.CopyTo(sizes[1..]);
        sizes[^1] = head.OutputSize;
        Mlp = new Mlp<T>(sizes, activation);
        Head = head;
    }

    public Mlp<T> Mlp { get; }

    public MdnHead Head { get; }

    public int ParameterCount => Mlp.ParameterCount;

    public int FeatureCount => Mlp.InputSize;

    /// <summary>
    /// Random weights; the output bias of component k's mean set to the ((k + 1/2) / K) quantile of each label dimension, so the
    /// components start spread over the labels instead of collapsing onto one.
    /// </summary>
    public void Initialize(Span<T> parameters, ref SplitMix64 random, ReadOnlySpan<double> meanBias)
    {
        Mlp.Initialize(parameters, ref random);
        var bias = parameters.Slice(Mlp.BiasOffset(Mlp.LayerCount), Head.OutputSize);
        for (int i = 0; i < meanBias.Length; i++)
        {
            bias[Head.MeansOffset + i] = T.CreateTruncating(meanBias[i]);
        }
    }

    /// <summary>
    /// Sum over <paramref name="rows"/> rows of -log p(y | x); adds <paramref name="scale"/> times its gradient to
    /// <paramref name="gradient"/> unless that is empty.
    /// </summary>
    public double LossAndGradient(ReadOnlySpan<T> parameters, ReadOnlySpan<T> features, ReadOnlySpan<T> labels, int rows, T scale,
        Span<T> gradient, Mlp<T>.Workspace workspace, Span<T> outputGradient)
    {
        int outputSize = Head.OutputSize;
        int labelSize = Head.LabelSize;
        var output = Mlp.Forward(parameters, features, rows, workspace); // (rows, K (1 + 2D))
        bool backward = !gradient.IsEmpty;
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            var rowGradient = backward ? outputGradient.Slice(r * outputSize, outputSize) : Span<T>.Empty;
            T nll = Head.NegativeLogLikelihood(output.Slice(r * outputSize, outputSize), labels.Slice(r * labelSize, labelSize), rowGradient, scale);
            sum += double.CreateTruncating(nll);
        }

        if (backward)
        {
            Mlp.Backward(parameters, workspace, rows, outputGradient, gradient);
        }

        return sum;
    }

    /// <summary>
    /// The Gaussian prior N(0, 1/lambda) on every weight (not the biases), per training row: adds coefficient * w to the gradient and
    /// returns coefficient / 2 * ||w||^2, with coefficient = lambda / N.
    /// </summary>
    public double AddPrior(ReadOnlySpan<T> parameters, Span<T> gradient, double coefficient)
    {
        if (coefficient == 0)
        {
            return 0;
        }

        T c = T.CreateTruncating(coefficient);
        double squares = 0;
        for (int l = 1; l <= Mlp.LayerCount; l++)
        {
            int offset = Mlp.WeightOffset(l);
            int count = Mlp.BiasOffset(l) - offset;
            for (int i = offset; i < offset + count; i++)
            {
                T w = parameters[i];
                squares += double.CreateTruncating(w * w);
                if (!gradient.IsEmpty)
                {
                    gradient[i] += c * w;
                }
            }
        }

        return 0.5 * coefficient * squares;
    }
}
