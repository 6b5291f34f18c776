using System;
using Microsoft.ML.Data;

namespace MlNotes.Samples.Vision;

/// <summary>What the classifier adds to a row.</summary>
public sealed class FashionModelOutput
{
    [ColumnName("PredictedClass")]
    public string PredictedLabel { get; set; } = "";

    /// <summary>Probabilities, in the model's class order.</summary>
    public float[] Score { get; set; } = Array.Empty<float>();
}
