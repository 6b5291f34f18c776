using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace MlNotes.Trainers.Tests.Mdn;

public sealed class MdnEvaluatorTests
{
    public sealed class ScoredRow
    {
        public float Label { get; set; }

        [VectorType(2)]
        public float[] MixtureWeights { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureMeans { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.7)]
    [InlineData(-3.0)]
    public void Metrics_match_direct_numerical_integration(double label)
    {
        var w = new[] { 0.3, 0.7 };
        var m = new[] { -1.0, 1.5 };
        var s = new[] { 0.5, 0.8 };
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new ScoredRow
            {
                Label = (float)label, MixtureWeights = w.Select(v => (float)v).ToArray(), MixtureMeans = m.Select(v => (float)v).ToArray(),
                MixtureStandardDeviations = s.Select(v => (float)v).ToArray(),
            },
            new ScoredRow { Label = float.NaN, MixtureWeights = new[] { 0.5f, 0.5f }, MixtureMeans = new float[2], MixtureStandardDeviations = new[] { 1f, 1f } },
        });
        var metrics = ml.Regression.EvaluateMdn(data, intervalCoverage: 0.8);

        // CRPS = integral of (F(x) - 1{x >= y})^2 dx; F by a midpoint sum of the density.
        double crps = 0, cdf = 0, pit = double.NaN;
        const double Step = 1e-4;
        for (double x = -12; x < 12; x += Step)
        {
            double mid = x + Step / 2;
            double density = 0;
            for (int k = 0; k < 2; k++)
            {
                double z = (mid - m[k]) / s[k];
                density += w[k] * Math.Exp(-0.5 * z * z) / (s[k] * Math.Sqrt(2 * Math.PI));
            }

            cdf += density * Step;
            double indicator = x + Step >= label ? 1 : 0;
            crps += (cdf - indicator) * (cdf - indicator) * Step;
            if (double.IsNaN(pit) && x + Step >= label)
            {
                pit = cdf;
            }
        }

        double logDensity = Math.Log(Enumerable.Range(0, 2).Sum(k => w[k] * Math.Exp(-0.5 * Math.Pow((label - m[k]) / s[k], 2)) / (s[k] * Math.Sqrt(2 * Math.PI))));
        Assert.Equal(-logDensity, metrics.NegativeLogLikelihood, 1e-5);
        Assert.Equal(crps, metrics.ContinuousRankedProbabilityScore, 2e-3);
        Assert.Equal(1, metrics.RowCount);
        Assert.Equal(1, metrics.SkippedRows);
        Assert.Equal(0.8, metrics.NominalCoverage);
        Assert.Equal(1.0, metrics.PitHistogram.Sum(), 1e-9);
        Assert.Equal(1.0, metrics.PitHistogram[Math.Min(9, (int)(pit * 10))]);
    }

    [Fact]
    public void Missing_mixture_columns_fail_naming_them()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { Label = 1f, Score = 1f } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.EvaluateMdn(data));
        Assert.Contains("Could not find input column 'MixtureWeights'", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.EvaluateMdn(data, intervalCoverage: 1.5));
    }
}
