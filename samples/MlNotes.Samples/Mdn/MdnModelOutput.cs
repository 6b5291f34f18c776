using System;

namespace MlNotes.Samples.Mdn;

/// <summary>What the MDN predicts for a row: the whole distribution, not one number.</summary>
public sealed class MdnModelOutput
{
    /// <summary>The mixture mean.</summary>
    public float Score { get; set; }

    /// <summary>The most probable value.</summary>
    public float Mode { get; set; }

    public float StandardDeviation { get; set; }

    public float LowerBound { get; set; }

    public float UpperBound { get; set; }

    public float[] MixtureWeights { get; set; } = Array.Empty<float>();

    public float[] MixtureMeans { get; set; } = Array.Empty<float>();

    public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();
}
