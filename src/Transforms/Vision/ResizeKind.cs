namespace MlNotes.Transforms.Vision;

/// <summary>How an image is brought to a model's input size before cropping.</summary>
public enum ResizeKind
{
    /// <summary>The images already have the model's size; one that has not is resized to it exactly.</summary>
    None = 0,

    /// <summary>Resize to the model's width and height exactly (aspect ratio not kept).</summary>
    Exact = 1,

    /// <summary>Resize the shortest side to a given length keeping the aspect ratio (torchvision's <c>Resize(int)</c>), then center crop.</summary>
    ShortestSide = 2,
}
