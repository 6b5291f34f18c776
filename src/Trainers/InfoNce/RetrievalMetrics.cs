namespace MlNotes.Trainers.InfoNce;

/// <summary>Cross-modal retrieval quality in both directions, every row's partner ranked among all rows.</summary>
public sealed class RetrievalMetrics
{
    internal RetrievalMetrics(double[] aToB, double[] bToA, long rowCount)
    {
        RecallAt1AToB = aToB[0];
        RecallAt5AToB = aToB[1];
        RecallAt10AToB = aToB[2];
        MeanReciprocalRankAToB = aToB[3];
        MeanRankAToB = aToB[4];
        RecallAt1BToA = bToA[0];
        RecallAt5BToA = bToA[1];
        RecallAt10BToA = bToA[2];
        MeanReciprocalRankBToA = bToA[3];
        MeanRankBToA = bToA[4];
        RowCount = rowCount;
    }

    /// <summary>Fraction of A rows whose partner is the most similar B.</summary>
    public double RecallAt1AToB { get; }

    /// <summary>Fraction of A rows whose partner is among the 5 most similar B.</summary>
    public double RecallAt5AToB { get; }

    /// <summary>Fraction of A rows whose partner is among the 10 most similar B.</summary>
    public double RecallAt10AToB { get; }

    /// <summary>Mean of 1 / rank of the partner, A to B.</summary>
    public double MeanReciprocalRankAToB { get; }

    /// <summary>Mean rank of the partner (1 is best), A to B.</summary>
    public double MeanRankAToB { get; }

    /// <summary>Fraction of B rows whose partner is the most similar A.</summary>
    public double RecallAt1BToA { get; }

    /// <summary>Fraction of B rows whose partner is among the 5 most similar A.</summary>
    public double RecallAt5BToA { get; }

    /// <summary>Fraction of B rows whose partner is among the 10 most similar A.</summary>
    public double RecallAt10BToA { get; }

    /// <summary>Mean of 1 / rank of the partner, B to A.</summary>
    public double MeanReciprocalRankBToA { get; }

    /// <summary>Mean rank of the partner (1 is best), B to A.</summary>
    public double MeanRankBToA { get; }

    /// <summary>Rows ranked (each one a query and a candidate).</summary>
    public long RowCount { get; }
}
