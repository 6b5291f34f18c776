using System.Collections.Generic;

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// How well predicted distributions fit the labels: likelihood, CRPS, interval coverage and PIT calibration.
/// Returned by <see cref="Microsoft.ML.MlNotesTrainersCatalog.EvaluateMdn"/>.
/// </summary>
public sealed class MdnMetrics
{
    internal MdnMetrics(double negativeLogLikelihood, double crps, double intervalCoverage, double nominalCoverage,
        IReadOnlyList<double> pitHistogram, double pitKolmogorovSmirnov, long rowCount, long skippedRows)
    {
        NegativeLogLikelihood = negativeLogLikelihood;
        ContinuousRankedProbabilityScore = crps;
        IntervalCoverage = intervalCoverage;
        NominalCoverage = nominalCoverage;
        PitHistogram = pitHistogram;
        PitKolmogorovSmirnov = pitKolmogorovSmirnov;
        RowCount = rowCount;
        SkippedRows = skippedRows;
    }

    /// <summary>Mean -log p(label | features) in nats (joint over the label's dimensions); lower is better. Depends on the label's units.</summary>
    public double NegativeLogLikelihood { get; }

    /// <summary>Mean continuous ranked probability score (in label units, averaged over dimensions); lower is better, equals the absolute error for a point forecast.</summary>
    public double ContinuousRankedProbabilityScore { get; }

    /// <summary>Fraction of labels (per dimension) inside the central interval of <see cref="NominalCoverage"/>; calibrated when the two agree.</summary>
    public double IntervalCoverage { get; }

    /// <summary>The coverage the intervals were computed for.</summary>
    public double NominalCoverage { get; }

    /// <summary>Fractions of probability integral transforms F(label) in equal bins of [0, 1]; flat for a calibrated model, U-shaped when too confident, humped when too cautious.</summary>
    public IReadOnlyList<double> PitHistogram { get; }

    /// <summary>The largest distance between the empirical distribution of the PIT values and the uniform one (0 is perfect).</summary>
    public double PitKolmogorovSmirnov { get; }

    /// <summary>Rows evaluated.</summary>
    public long RowCount { get; }

    /// <summary>Rows skipped because their label is NaN.</summary>
    public long SkippedRows { get; }
}
