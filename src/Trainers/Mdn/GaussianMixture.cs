using System;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// Summaries of a diagonal Gaussian mixture given as weights (K), means (K, D) and standard deviations (K, D), component-major.
/// Per-dimension functions work on the marginal of dimension <c>d</c>, itself a one-dimensional mixture. Densities take the log-weights,
/// which stay finite where a weight underflows to 0 (below about e^-103 in float, e^-745 in double).
/// </summary>
internal static class GaussianMixture
{
    private const double HalfLogTwoPi = 0.91893853320467274178;
    private const double InvSqrtTwoPi = 0.39894228040143267794;

    /// <summary>log p(y), y of length D, from the log-weights (K).</summary>
    public static double LogDensity(ReadOnlySpan<double> logWeights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, ReadOnlySpan<double> y)
    {
        int k = logWeights.Length;
        int dims = y.Length;
        Span<double> terms = k <= 128 ? stackalloc double[k] : new double[k];
        for (int c = 0; c < k; c++)
        {
            double logN = logWeights[c];
            for (int j = 0; j < dims; j++)
            {
                double s = sigmas[c * dims + j];
                double z = (y[j] - means[c * dims + j]) / s;
                logN -= 0.5 * z * z + Math.Log(s) + HalfLogTwoPi;
            }

            terms[c] = logN;
        }

        return LogSumExp.Compute<double>(terms);
    }

    public static double Mean(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, int dims, int d)
    {
        double mean = 0;
        for (int c = 0; c < weights.Length; c++)
        {
            mean += weights[c] * means[c * dims + d];
        }

        return mean;
    }

    /// <summary>The predictive standard deviation: within-component plus between-component spread.</summary>
    public static double StandardDeviation(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, int dims, int d)
    {
        double mean = Mean(weights, means, dims, d);
        double second = 0;
        for (int c = 0; c < weights.Length; c++)
        {
            double m = means[c * dims + d];
            double s = sigmas[c * dims + d];
            second += weights[c] * (s * s + (m - mean) * (m - mean));
        }

        return Math.Sqrt(Math.Max(second, 0));
    }

    /// <summary>P(Y_d &lt;= y).</summary>
    public static double Cdf(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, int dims, int d, double y)
    {
        double p = 0;
        for (int c = 0; c < weights.Length; c++)
        {
            p += weights[c] * NormalCdf((y - means[c * dims + d]) / sigmas[c * dims + d]);
        }

        return Math.Clamp(p, 0, 1);
    }

    /// <summary>The <paramref name="probability"/> quantile of dimension d, by bisection on the CDF (mixtures have no closed form).</summary>
    public static double Quantile(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, int dims, int d, double probability)
    {
        double lo = double.PositiveInfinity;
        double hi = double.NegativeInfinity;
        for (int c = 0; c < weights.Length; c++)
        {
            double m = means[c * dims + d];
            double s = sigmas[c * dims + d];
            lo = Math.Min(lo, m - 10 * s);
            hi = Math.Max(hi, m + 10 * s);
        }

        for (int iteration = 0; iteration < 100 && hi - lo > 1e-12 * Math.Max(1, Math.Abs(lo) + Math.Abs(hi)); iteration++)
        {
            double mid = 0.5 * (lo + hi);
            if (Cdf(weights, means, sigmas, dims, d, mid) < probability)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// The highest mode of the mixture density (all D dimensions jointly): fixed-point (mean-shift) iterations started at every
    /// component mean (of components of weight at least 1e-6), keeping the end point of highest density. Takes the log-weights (K).
    /// </summary>
    public static void Mode(ReadOnlySpan<double> logWeights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, Span<double> mode)
    {
        const double LogMinimumStartWeight = -13.815510557964274; // log(1e-6)
        int k = logWeights.Length;
        int dims = mode.Length;
        Span<double> x = dims <= 64 ? stackalloc double[dims] : new double[dims];
        Span<double> numerator = dims <= 64 ? stackalloc double[dims] : new double[dims];
        Span<double> denominator = dims <= 64 ? stackalloc double[dims] : new double[dims];
        Span<double> logR = k <= 128 ? stackalloc double[k] : new double[k];
        double best = double.NegativeInfinity;
        for (int start = 0; start < k; start++)
        {
            if (logWeights[start] < LogMinimumStartWeight)
            {
                continue;
            }

            means.Slice(start * dims, dims).CopyTo(x);
            for (int iteration = 0; iteration < 100; iteration++)
            {
                for (int c = 0; c < k; c++)
                {
                    double log = logWeights[c];
                    for (int j = 0; j < dims; j++)
                    {
                        double s = sigmas[c * dims + j];
                        double z = (x[j] - means[c * dims + j]) / s;
                        log -= 0.5 * z * z + Math.Log(s);
                    }

                    logR[c] = log;
                }

                double lse = LogSumExp.Compute<double>(logR);
                numerator.Clear();
                denominator.Clear();
                for (int c = 0; c < k; c++)
                {
                    double r = Math.Exp(logR[c] - lse);
                    for (int j = 0; j < dims; j++)
                    {
                        double precision = 1 / (sigmas[c * dims + j] * sigmas[c * dims + j]);
                        numerator[j] += r * precision * means[c * dims + j];
                        denominator[j] += r * precision;
                    }
                }

                double moved = 0;
                for (int j = 0; j < dims; j++)
                {
                    double next = numerator[j] / denominator[j];
                    moved = Math.Max(moved, Math.Abs(next - x[j]) / Math.Sqrt(1 / denominator[j]));
                    x[j] = next;
                }

                if (moved < 1e-9)
                {
                    break;
                }
            }

            double density = LogDensity(logWeights, means, sigmas, x);
            if (density > best)
            {
                best = density;
                x.CopyTo(mode);
            }
        }
    }

    /// <summary>
    /// The continuous ranked probability score of dimension d at y, in closed form for a Gaussian mixture:
    /// sum_k w_k A(y - mu_k, s_k^2) - 1/2 sum_jk w_j w_k A(mu_j - mu_k, s_j^2 + s_k^2), A(m, v) = 2 sqrt(v) phi(m / sqrt(v)) + m (2 Phi(m / sqrt(v)) - 1).
    /// </summary>
    public static double Crps(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, int dims, int d, double y)
    {
        int k = weights.Length;
        double first = 0;
        double second = 0;
        for (int a = 0; a < k; a++)
        {
            double ma = means[a * dims + d];
            double sa = sigmas[a * dims + d];
            first += weights[a] * A(y - ma, sa * sa);
            for (int b = 0; b < k; b++)
            {
                double mb = means[b * dims + d];
                double sb = sigmas[b * dims + d];
                second += weights[a] * weights[b] * A(ma - mb, sa * sa + sb * sb);
            }
        }

        return first - 0.5 * second;

        static double A(double m, double variance)
        {
            double s = Math.Sqrt(variance);
            double z = m / s;
            return 2 * s * InvSqrtTwoPi * Math.Exp(-0.5 * z * z) + m * (2 * NormalCdf(z) - 1);
        }
    }

    /// <summary>One draw of the D-dimensional mixture into <paramref name="sample"/>.</summary>
    public static void Sample(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> sigmas, ref SplitMix64 random, Span<double> sample)
    {
        int dims = sample.Length;
        double u = random.NextDouble();
        int c = 0;
        double cumulative = weights[0];
        while (u >= cumulative && c < weights.Length - 1)
        {
            c++;
            cumulative += weights[c];
        }

        for (int j = 0; j < dims; j++)
        {
            sample[j] = means[c * dims + j] + sigmas[c * dims + j] * random.NextGaussian();
        }
    }

    /// <summary>Phi(z), from erfc with fractional error below 1.2e-7 (Numerical Recipes' Chebyshev fit), accurate in both tails.</summary>
    public static double NormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
