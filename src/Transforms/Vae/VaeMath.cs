using System;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The VAE's arithmetic, as models-onnx/python/nets.py computes it: reparameterization, the Bernoulli log-likelihood,
/// the analytic KL to N(0, I), Gaussian log-densities, and the seeded noise. Sums are accumulated in double.
/// </summary>
internal static class VaeMath
{
    private const double LogTwoPi = 1.8378770664093453;

    /// <summary>z = mean + exp(logvar / 2) * eps.</summary>
    public static void Reparameterize(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance, ReadOnlySpan<float> eps, Span<float> z)
    {
        for (int i = 0; i < z.Length; i++)
        {
            z[i] = mean[i] + (MathF.Exp(0.5f * logVariance[i]) * eps[i]);
        }
    }

    /// <summary>log p(x|z) of per-pixel Bernoulli(sigmoid(logits)): -sum(softplus(l) - x l), softplus computed stably.</summary>
    public static double BernoulliLogLikelihood(ReadOnlySpan<float> x, ReadOnlySpan<float> logits)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double l = logits[i];
            double softplus = Math.Max(l, 0) + Math.Log(1 + Math.Exp(-Math.Abs(l)));
            sum += softplus - (x[i] * l);
        }

        return -sum;
    }

    /// <summary>KL(N(mean, exp(logvar)) || N(0, I)) = -1/2 sum(1 + logvar - mean^2 - exp(logvar)).</summary>
    public static double KlToStandardNormal(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance)
    {
        double sum = 0;
        for (int i = 0; i < mean.Length; i++)
        {
            double m = mean[i], lv = logVariance[i];
            sum += 1 + lv - (m * m) - Math.Exp(lv);
        }

        return -0.5 * sum;
    }

    /// <summary>log N(z; mean, diag(exp(logvar))); with empty mean and logvar, log N(z; 0, I).</summary>
    public static double GaussianLogDensity(ReadOnlySpan<float> z, ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance)
    {
        double sum = 0;
        for (int i = 0; i < z.Length; i++)
        {
            double m = mean.IsEmpty ? 0 : mean[i], lv = logVariance.IsEmpty ? 0 : logVariance[i];
            double d = z[i] - m;
            sum += LogTwoPi + lv + (d * d / Math.Exp(lv));
        }

        return -0.5 * sum;
    }

    /// <summary>log(mean(exp(values))), stable: the maximum is taken out first.</summary>
    public static double LogMeanExp(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values)
        {
            max = Math.Max(max, v);
        }

        if (double.IsNaN(max) || double.IsInfinity(max))
        {
            return max;
        }

        double sum = 0;
        foreach (double v in values)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum / values.Length);
    }

    /// <summary>
    /// Standard normal noise for one (seed, row position, sample), as v1 model zips key it: a SplitMix64 stream keyed by the three, through Box-Muller.
    /// The same triple gives the same values on every machine and run, however the rows are batched.
    /// </summary>
    public static void Gaussian(Span<float> destination, int seed, long position, int sample)
    {
        ulong state = Mix(Mix(Mix((ulong)(uint)seed) ^ (ulong)position) ^ (ulong)(uint)sample);
        Fill(destination, state);
    }

    private static void Fill(Span<float> destination, ulong state)
    {
        for (int i = 0; i < destination.Length; i += 2)
        {
            // Two uniforms in (0, 1] from the top 53 bits.
            double u1 = ((Next(ref state) >> 11) + 1.0) / 9007199254740992.0;
            double u2 = (Next(ref state) >> 11) / 9007199254740992.0;
            double radius = Math.Sqrt(-2 * Math.Log(u1));
            destination[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < destination.Length)
            {
                destination[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
            }
        }
    }

    /// <summary>
    /// Standard normal noise for one (seed, upstream row id, sample): the row's noise wherever it is read, in a shard
    /// (SkipRows, TakeRows), a filtered view or a resumed run, as in one full run. The stream of <see cref="Gaussian(Span{float}, int, long, int)"/>
    /// keyed by the id's two halves.
    /// </summary>
    public static void Gaussian(Span<float> destination, int seed, DataViewRowId id, int sample)
    {
        ulong state = Mix(Mix(Mix(Mix((ulong)(uint)seed) ^ id.Low) ^ id.High) ^ (ulong)(uint)sample);
        Fill(destination, state);
    }

    private static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
