using Microsoft.ML.Data;

namespace MlNotes.Samples.Vision;

/// <summary>One row of the committed Fashion-MNIST subset (models-onnx/data/fashion-mnist-subset/labels.csv).</summary>
public sealed class FashionModelInput
{
    [LoadColumn(0)]
    public string ImagePath { get; set; } = "";

    [LoadColumn(1)]
    public int Label { get; set; }

    [LoadColumn(2)]
    public string LabelName { get; set; } = "";
}
