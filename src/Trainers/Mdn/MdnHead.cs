using System;
using System.Numerics;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// The mixture head of an MDN: the network's output row is [logits (K) | means (K, D) | sigma pre-activations (K, D)], component-major.
/// Computes the negative log-likelihood of a label row and its gradient with respect to that output row.
/// </summary>
internal readonly record struct MdnHead(int Components, int LabelSize, MdnSigmaTransform SigmaTransform, double MinimumSigma)
{
    private const double HalfLogTwoPi = 0.91893853320467274178;

    public int OutputSize => Components * (1 + 2 * LabelSize);

    public int MeansOffset => Components;

    public int SigmasOffset => Components * (1 + LabelSize);

    /// <summary>sigma = minimum + f(s) and its derivative f'(s).</summary>
    public T Sigma<T>(T s, out T derivative)
        where T : IFloatingPointIeee754<T>
    {
        T min = T.CreateTruncating(MinimumSigma);
        switch (SigmaTransform)
        {
            case MdnSigmaTransform.Exp:
                T e = T.Exp(s);
                derivative = e;
                return min + e;
            case MdnSigmaTransform.EluPlusOne:
                if (s > T.Zero)
                {
                    derivative = T.One;
                    return min + s + T.One;
                }

                T em = T.Exp(s);
                derivative = em;
                return min + em;
            default:
                derivative = Activations.Sigmoid(s);
                return min + Activations.Softplus(s);
        }
    }

    /// <summary>
    /// -log p(label | output). When <paramref name="gradient"/> is not empty, writes scale * d(-log p)/d(output) into it.
    /// </summary>
    public T NegativeLogLikelihood<T>(ReadOnlySpan<T> output, ReadOnlySpan<T> label, Span<T> gradient, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = Components;
        int d = LabelSize;
        Span<T> logPi = k <= 128 ? stackalloc T[k] : new T[k];
        Span<T> joint = k <= 128 ? stackalloc T[k] : new T[k]; // log pi_k + log N(y | mu_k, sigma_k)
        LogSumExp.LogSoftmax(output[..k], logPi);
        T halfLogTwoPi = T.CreateTruncating(HalfLogTwoPi);
        T half = T.CreateTruncating(0.5);
        for (int c = 0; c < k; c++)
        {
            T logN = T.Zero;
            for (int j = 0; j < d; j++)
            {
                T sigma = Sigma(output[SigmasOffset + c * d + j], out _);
                T z = (label[j] - output[MeansOffset + c * d + j]) / sigma;
                logN -= half * z * z + T.Log(sigma) + halfLogTwoPi;
            }

            joint[c] = logPi[c] + logN;
        }

        T logP = LogSumExp.Compute<T>(joint);
        if (gradient.IsEmpty)
        {
            return -logP;
        }

        for (int c = 0; c < k; c++)
        {
            T responsibility = T.Exp(joint[c] - logP);
            gradient[c] = scale * (T.Exp(logPi[c]) - responsibility);
            for (int j = 0; j < d; j++)
            {
                int at = c * d + j;
                T sigma = Sigma(output[SigmasOffset + at], out T dSigma);
                T z = (label[j] - output[MeansOffset + at]) / sigma;
                gradient[MeansOffset + at] = -scale * responsibility * z / sigma;
                gradient[SigmasOffset + at] = scale * responsibility * (T.One - z * z) / sigma * dSigma;
            }
        }

        return -logP;
    }

    /// <summary>
    /// The mixture in label units: log-weights and weights (K), means (K, D), standard deviations (K, D), undoing the label
    /// standardization y = mean + scale * y'. The log-weights are the log-softmax of the logits in double, as training computes them.
    /// </summary>
    public void Decode(ReadOnlySpan<float> output, ReadOnlySpan<double> labelMean, ReadOnlySpan<double> labelScale,
        Span<double> logWeights, Span<double> weights, Span<double> means, Span<double> sigmas)
    {
        int k = Components;
        int d = LabelSize;
        Span<double> logits = k <= 128 ? stackalloc double[k] : new double[k];
        for (int c = 0; c < k; c++)
        {
            logits[c] = output[c];
        }

        LogSumExp.LogSoftmax<double>(logits, logWeights);
        for (int c = 0; c < k; c++)
        {
            weights[c] = Math.Exp(logWeights[c]);
            for (int j = 0; j < d; j++)
            {
                int at = c * d + j;
                means[at] = labelMean[j] + labelScale[j] * output[MeansOffset + at];
                sigmas[at] = labelScale[j] * Sigma((double)output[SigmasOffset + at], out _);
            }
        }
    }
}
