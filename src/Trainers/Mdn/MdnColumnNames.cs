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

    /// <summary>The component means, K x label size, component-major.</summary>
    public const string MixtureMeans = "MixtureMeans";

    /// <summary>The component standard deviations, K x label size, component-major.</summary>
    public const string MixtureStandardDeviations = "MixtureStandardDeviations";
}
