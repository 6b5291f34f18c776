using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// What every MlNotes image model (a classifier, an image tower) is told about its images: the column, how to read it, and
/// preprocessing overrides. Unset values come from the model's manifest, then from the graph.
/// </summary>
public abstract class OnnxImageModelOptions : OnnxModelOptions
{
    /// <summary>The model's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
    public string? ManifestFile { get; set; }

    /// <summary>The image column: <c>MLImage</c> (from <c>LoadImages</c>), a path (text, read from <see cref="ImageFolder"/>), encoded image bytes, or a pixel vector.</summary>
    public string InputColumnName { get; set; } = "Image";

    /// <summary>For a text column of image paths: the folder they are relative to (default: as given).</summary>
    public string? ImageFolder { get; set; }

    /// <summary>With an <c>MLImage</c> column: the column of paths it was loaded from, named in error messages. Default: <c>ImagePath</c> when there is one.</summary>
    public string? ImagePathColumnName { get; set; }

    /// <summary>Go on past unreadable images: NaN outputs, and the error flag column set.</summary>
    public bool ContinueOnError { get; set; }

    /// <summary>The error flag column added with <see cref="ContinueOnError"/>.</summary>
    public string ErrorColumnName { get; set; } = "ImageError";

    /// <summary>Graph input taking the image tensor. Default: the manifest's image role, or the graph's only input.</summary>
    public string? ImageTensorName { get; set; }

    /// <summary>Model input width. Default: the manifest's, or the graph's.</summary>
    public int? ImageWidth { get; set; }

    /// <summary>Model input height. Default: the manifest's, or the graph's.</summary>
    public int? ImageHeight { get; set; }

    /// <summary>Model input channels, 1 (grey) or 3 (RGB). Default: the manifest's, or the graph's.</summary>
    public int? ImageChannels { get; set; }

    /// <summary>How images are brought to the input size. Default: the manifest's, or <see cref="ResizeKind.None"/>.</summary>
    public ResizeKind? Resize { get; set; }

    /// <summary>With <see cref="ResizeKind.ShortestSide"/>: the shortest side's length before the center crop (256 for 224 crops, torchvision's habit).</summary>
    public int? ResizeSize { get; set; }

    /// <summary>Per-channel mean subtracted after scaling to [0, 1]. Default: the manifest's, or 0.</summary>
    public float[]? Mean { get; set; }

    /// <summary>Per-channel std divided by. Default: the manifest's, or 1.</summary>
    public float[]? Std { get; set; }

    /// <summary>For raw pixel vectors: their width (default: the model's).</summary>
    public int? RawPixelWidth { get; set; }

    /// <summary>For raw pixel vectors: their height (default: the model's).</summary>
    public int? RawPixelHeight { get; set; }

    /// <summary>For raw pixel vectors: their channels, 1 or 3 (default: the model's). A byte vector with none of the three set is read as an encoded image file.</summary>
    public int? RawPixelChannels { get; set; }

    /// <summary>Images per ONNX Runtime run.</summary>
    public int BatchSize { get; set; } = 64;
}
