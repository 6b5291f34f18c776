namespace MlNotes.Trainers.Mdn;

/// <summary>The columns an MDN adds next to <c>Score</c> (the mixture mean).</summary>
public static class MdnColumnNames
{
    /// <summary>The highest mode of the predicted density (the most probable value).</summary>
    public const string Mode = "Mode";

    /// <summary>The predictive standard deviation, within and between components.</summary>
    public const string StandardDeviation = "StandardDeviation";

    /// <summary>The lower end of the central prediction interval.</summary>
    public const string LowerBound = "LowerBound";

    /// <summary>The upper end of the central prediction interval.</summary>
    public const string UpperBound = "UpperBound";

    /// <summary>The K mixture weights, summing to 1.</summary>
    public const string MixtureWeights = "MixtureWeights";

    /// <summary>
    /// The K log mixture weights: the log-softmax of the network's logits, computed in double and stored as Single. Finite where a weight
    /// underflows to 0 in Single (a log-weight below about -103); <c>EvaluateMdn</c> reads it for the likelihood.
    /// </summary>
    public const string MixtureLogWeights = "MixtureLogWeights";

    /// <summary>The component means, K x label size, component-major.</summary>
    public const string MixtureMeans = "MixtureMeans";

    /// <summary>The component standard deviations, K x label size, component-major.</summary>
    public const string MixtureStandardDeviations = "MixtureStandardDeviations";
}
