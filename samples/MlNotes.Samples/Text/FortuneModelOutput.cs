using System;
using Microsoft.ML.Data;

namespace MlNotes.Samples.Text;

/// <summary>What the text classifier adds.</summary>
public sealed class FortuneModelOutput
{
    [ColumnName("PredictedClass")]
    public string PredictedCategory { get; set; } = "";

    public float[] Score { get; set; } = Array.Empty<float>();

    public float[] Embedding { get; set; } = Array.Empty<float>();
}
