using Microsoft.ML.Data;

namespace MlNotes.Samples.Text;

/// <summary>One fortune (models-onnx/data/fortunes/*.tsv): its category and its text.</summary>
public sealed class FortuneModelInput
{
    [LoadColumn(0)]
    public string Category { get; set; } = "";

    [LoadColumn(1)]
    public string Text { get; set; } = "";
}
