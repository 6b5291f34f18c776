using System;
using Microsoft.ML.Data;

namespace MlNotes.Samples.Clip;

/// <summary>What the zero-shot classifier adds to an image row.</summary>
public sealed class ClipZeroShotOutput
{
    [ColumnName("PredictedClass")]
    public string PredictedLabel { get; set; } = "";

    /// <summary>Probabilities over the labels: softmax of the logit scale times the cosine with each label's prompts.</summary>
    public float[] Score { get; set; } = Array.Empty<float>();
}

/// <summary>A text query for the image search.</summary>
public sealed class ImageSearchQuery
{
    public string Text { get; set; } = "";
}

/// <summary>The images found for a query, best first.</summary>
public sealed class ImageSearchResult
{
    [ColumnName("TopKKeys")]
    public string[] ImagePaths { get; set; } = Array.Empty<string>();

    [ColumnName("TopKScores")]
    public float[] Similarities { get; set; } = Array.Empty<float>();
}
