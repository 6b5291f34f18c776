using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.Mdn;

public sealed class MdnEvaluatorTests
{
    private readonly ITestOutputHelper _output;

    public MdnEvaluatorTests(ITestOutputHelper output) => _output = output;

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

    private static ScoredRow Row(double label, double[] w, double[] m, double[] s) => new()
    {
        Label = (float)label,
        MixtureWeights = w.Select(v => (float)v).ToArray(),
        MixtureMeans = m.Select(v => (float)v).ToArray(),
        MixtureStandardDeviations = s.Select(v => (float)v).ToArray(),
    };

    /// <summary>The reference's own erf: erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)), positive terms only, so no cancellation.</summary>
    private static double Erf(double x)
    {
        if (x < 0)
        {
            return -Erf(-x);
        }

        if (x > 6.5)
        {
            return 1; // 1 - erf(6.5) < 1e-19
        }

        double term = x, sum = x;
        for (int n = 1; n < 1000 && term > 1e-18 * sum; n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }

        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    private static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    private static double Density(double z) => Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);

    /// <summary>CRPS of a Gaussian mixture in closed form (Grimit et al. 2006), from the float values the evaluator reads.</summary>
    private static double Crps(ScoredRow row)
    {
        static double A(double m, double v) => 2 * Math.Sqrt(v) * Density(m / Math.Sqrt(v)) + m * (2 * Phi(m / Math.Sqrt(v)) - 1);
        double y = row.Label;
        double first = 0, second = 0;
        for (int i = 0; i < 2; i++)
        {
            double wi = row.MixtureWeights[i], mi = row.MixtureMeans[i], si = row.MixtureStandardDeviations[i];
            first += wi * A(y - mi, si * si);
            for (int j = 0; j < 2; j++)
            {
                double sj = row.MixtureStandardDeviations[j];
                second += wi * row.MixtureWeights[j] * A(mi - row.MixtureMeans[j], si * si + sj * sj);
            }
        }

        return first - 0.5 * second;
    }

    private static double Nll(ScoredRow row)
        => -Math.Log(Enumerable.Range(0, 2).Sum(k => (double)row.MixtureWeights[k] * Density((row.Label - row.MixtureMeans[k]) / (double)row.MixtureStandardDeviations[k])
            / row.MixtureStandardDeviations[k]));

    private static double Pit(ScoredRow row)
        => Enumerable.Range(0, 2).Sum(k => (double)row.MixtureWeights[k] * Phi((row.Label - row.MixtureMeans[k]) / (double)row.MixtureStandardDeviations[k]));

    [Fact]
    public void The_reference_erf_matches_tabulated_values()
    {
        // erf(0.5), erf(1), erf(2), erf(3) to 16 digits (Abramowitz and Stegun 7.1; also scipy.special.erf).
        Assert.Equal(0.5204998778130465, Erf(0.5), 1e-15);
        Assert.Equal(0.8427007929497149, Erf(1), 1e-15);
        Assert.Equal(0.9953222650189527, Erf(2), 1e-15);
        Assert.Equal(0.9999779095030014, Erf(3), 1e-15);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.7)]
    [InlineData(-3.0)]
    public void Nll_and_crps_match_the_closed_form(double label)
    {
        var row = Row(label, new[] { 0.3, 0.7 }, new[] { -1.0, 1.5 }, new[] { 0.5, 0.8 });
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            row,
            new ScoredRow { Label = float.NaN, MixtureWeights = new[] { 0.5f, 0.5f }, MixtureMeans = new float[2], MixtureStandardDeviations = new[] { 1f, 1f } },
        });
        var metrics = ml.Regression.EvaluateMdn(data, intervalCoverage: 0.8);
        _output.WriteLine($"label {label}: NLL gap {metrics.NegativeLogLikelihood - Nll(row):E2}, CRPS gap {metrics.ContinuousRankedProbabilityScore - Crps(row):E2}");

        // Both sides compute the log density in double from the same floats: measured gaps at most 1.8e-15; 1e-12 leaves room for another libm.
        Assert.Equal(Nll(row), metrics.NegativeLogLikelihood, 1e-12);

        // The evaluator's Phi comes from an erfc of fractional error 1.2e-7 (Numerical Recipes); the reference's erf is exact to 1e-15.
        // Measured gaps at labels 0, 1.7, -3: 6.0e-9, 5.1e-9, 1.3e-10; 5e-8 leaves 8x.
        Assert.Equal(Crps(row), metrics.ContinuousRankedProbabilityScore, 5e-8);
        Assert.Equal(1, metrics.RowCount);
        Assert.Equal(1, metrics.SkippedRows);
        Assert.Equal(0.8, metrics.NominalCoverage);
    }

    [Fact]
    public void Coverage_and_pit_are_exact_on_rows_built_for_them()
    {
        // Rows 0-5: one Gaussian N(m, 1) (two equal components), label m + z, so PIT = Phi(z); rows 6-8: 0.25 N(-10, 1) + 0.75 N(10, 1),
        // whose CDF is 0.25 Phi(y + 10) + 0.75 Phi(y - 10). The 80% central interval of N(m, 1) is m +- 1.2816; that of the mixture is
        // [-10.2533, 11.1107] (0.25 Phi(q + 10) = 0.1 and 0.25 + 0.75 Phi(q - 10) = 0.9), which covers the empty gap around 0.
        var one = new[] { 0.5, 0.5 };
        var unit = new[] { 1.0, 1.0 };
        var twin = new[] { 0.25, 0.75 };
        var far = new[] { -10.0, 10.0 };
        var rows = new[]
        {
            Row(0 - 2.0, one, new[] { 0.0, 0.0 }, unit),    // PIT Phi(-2) = 0.02275, bin 0, outside
            Row(3 - 1.0, one, new[] { 3.0, 3.0 }, unit),    // PIT Phi(-1) = 0.15866, bin 1, inside
            Row(-2 - 0.5, one, new[] { -2.0, -2.0 }, unit), // PIT Phi(-0.5) = 0.30854, bin 3, inside
            Row(1 + 0.25, one, new[] { 1.0, 1.0 }, unit),   // PIT Phi(0.25) = 0.59871, bin 5, inside
            Row(0 + 1.0, one, new[] { 0.0, 0.0 }, unit),    // PIT Phi(1) = 0.84134, bin 8, inside
            Row(2 + 1.5, one, new[] { 2.0, 2.0 }, unit),    // PIT Phi(1.5) = 0.93319, bin 9, outside
            Row(0, twin, far, unit),                        // PIT 0.25 (to 1e-23), bin 2, inside
            Row(-12, twin, far, unit),                      // PIT 0.25 Phi(-2) = 0.00569, bin 0, outside
            Row(9.5, twin, far, unit),                      // PIT 0.25 + 0.75 Phi(-0.5) = 0.48140, bin 4, inside
        };
        var withNaN = rows.Append(new ScoredRow { Label = float.NaN, MixtureWeights = new[] { 0.5f, 0.5f }, MixtureMeans = new float[2], MixtureStandardDeviations = new[] { 1f, 1f } });
        var ml = new MLContext(1);
        var metrics = ml.Regression.EvaluateMdn(ml.Data.LoadFromEnumerable(withNaN), intervalCoverage: 0.8, pitBins: 10);

        Assert.Equal(9, metrics.RowCount);
        Assert.Equal(1, metrics.SkippedRows);
        Assert.Equal(6.0 / 9, metrics.IntervalCoverage);
        Assert.Equal(new[] { 2.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 0, 0, 1.0 / 9, 1.0 / 9 }, metrics.PitHistogram.ToArray());

        // Sorted PITs: 0.00569, 0.02275, 0.15866, 0.25, 0.30854, 0.48140, 0.59871, 0.84134, 0.93319; the largest gap to the uniform CDF
        // is at the fifth, 5/9 - Phi(-0.5) = 0.24701 (the next largest: 2/9 - 0.02275 = 0.19947). The evaluator's Phi (erfc of fractional
        // error 1.2e-7) gave a measured gap of 2.2e-8; 1e-7 leaves 4.5x.
        Assert.Equal(5.0 / 9 - Phi(-0.5), metrics.PitKolmogorovSmirnov, 1e-7);

        // The means over the nine rows against the closed forms, as above (measured CRPS gap 8.6e-10).
        Assert.Equal(rows.Average(Nll), metrics.NegativeLogLikelihood, 1e-12);
        Assert.Equal(rows.Average(Crps), metrics.ContinuousRankedProbabilityScore, 5e-8);
        _output.WriteLine($"KS gap {metrics.PitKolmogorovSmirnov - (5.0 / 9 - Phi(-0.5)):E2}, CRPS gap {metrics.ContinuousRankedProbabilityScore - rows.Average(Crps):E2}, " +
            $"PITs {string.Join(", ", rows.Select(r => Pit(r).ToString("F5")))}");
    }

    public sealed class LogWeightedRow
    {
        public float Label { get; set; }

        [VectorType(2)]
        public float[] MixtureWeights { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureLogWeights { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureMeans { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();
    }

    // Component 1 has log-weight -200: finite, while its weight e^-200 = 1.4e-87 is 0 in Single. The label 30 sits on component 1's mean
    // and 30 standard deviations from component 0's (log density -450.92 there).
    private static LogWeightedRow Underflowing() => new()
    {
        Label = 30, MixtureWeights = new[] { 1f, (float)Math.Exp(-200) }, MixtureLogWeights = new[] { (float)-Math.Exp(-200), -200f },
        MixtureMeans = new[] { 0f, 30f }, MixtureStandardDeviations = new[] { 1f, 1f },
    };

    [Fact]
    public void Nll_comes_from_the_log_weights_where_a_Single_weight_underflows_to_zero()
    {
        var row = Underflowing();
        Assert.Equal(0f, row.MixtureWeights[1]);
        var ml = new MLContext(1);
        var metrics = ml.Regression.EvaluateMdn(ml.Data.LoadFromEnumerable(new[] { row }));

        // By hand in double: -log(e^(0 - 450 - log sqrt(2 pi)) + e^(-200 - log sqrt(2 pi))) = 200 + log sqrt(2 pi) - log1p(e^-250).
        double halfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);
        double expected = 200 + halfLogTwoPi - Math.Log(1 + Math.Exp(-250));
        _output.WriteLine($"NLL {metrics.NegativeLogLikelihood:R}, by hand {expected:R}");
        Assert.True(double.IsFinite(metrics.NegativeLogLikelihood));
        Assert.Equal(expected, metrics.NegativeLogLikelihood, 1e-12); // measured gap 0: the same double operations on the same floats
    }

    [Fact]
    public void Without_log_weights_the_nll_takes_the_log_of_the_Single_weights()
    {
        // The documented fallback for mixture columns that come without MixtureLogWeights: component 1's weight is 0 in Single, so it drops
        // out and the label is scored under component 0 alone: 450 + log sqrt(2 pi).
        var row = Underflowing();
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { Row(row.Label, new[] { 1.0, 0.0 }, new[] { 0.0, 30.0 }, new[] { 1.0, 1.0 }) });
        Assert.Equal(450 + 0.5 * Math.Log(2 * Math.PI), ml.Regression.EvaluateMdn(data).NegativeLogLikelihood, 1e-12);
    }

    public sealed class WrongLogWeightsRow
    {
        public float Label { get; set; }

        [VectorType(2)]
        public float[] MixtureWeights { get; set; } = Array.Empty<float>();

        [VectorType(3)]
        public float[] MixtureLogWeights { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureMeans { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void A_log_weights_column_of_another_size_than_the_weights_fails_naming_it()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new WrongLogWeightsRow { MixtureWeights = new[] { 0.5f, 0.5f }, MixtureLogWeights = new float[3], MixtureMeans = new float[2], MixtureStandardDeviations = new[] { 1f, 1f } },
        });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.EvaluateMdn(data));
        Assert.Equal("data", ex.ParamName);
        Assert.Contains("Schema mismatch for input column 'MixtureLogWeights': expected a vector of 2 Single next to MixtureWeights (2), got Vector<Single, 3>.",
            ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_mixture_columns_fail_naming_them()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { Label = 1f, Score = 1f } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.EvaluateMdn(data));
        Assert.Contains("Could not find input column 'MixtureWeights'", ex.Message, StringComparison.Ordinal);
        var coverage = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.EvaluateMdn(data, intervalCoverage: 1.5));
        Assert.Equal("intervalCoverage", coverage.ParamName);
        Assert.Contains("intervalCoverage must be in (0, 1), got 1.5.", coverage.Message, StringComparison.Ordinal);
        var bins = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Regression.EvaluateMdn(data, pitBins: 0));
        Assert.Equal("pitBins", bins.ParamName);
        Assert.Contains("pitBins must be at least 1, got 0.", bins.Message, StringComparison.Ordinal);
    }
}
