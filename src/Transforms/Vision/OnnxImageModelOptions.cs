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

    /// <summary>
    /// Pillow's resize filter: <see cref="ResizeInterpolation.Bilinear"/> (torchvision's default), <see cref="ResizeInterpolation.Bicubic"/>
    /// (timm's and CLIP's), <see cref="ResizeInterpolation.Nearest"/>. Default: the manifest's <c>interpolation</c>, or bilinear.
    /// </summary>
    public ResizeInterpolation? Interpolation { get; set; }

    /// <summary>
    /// The range the graph takes pixels in, before <see cref="Mean"/> and <see cref="Std"/>: [0, 1] (torchvision's <c>ToTensor</c>),
    /// [0, 255] (Caffe, TensorFlow and many ONNX-zoo graphs), [-1, 1] (TensorFlow's Inception style). Set this or
    /// <see cref="Scale"/> and <see cref="Offset"/>, not both. Default: the manifest's <c>range</c> or <c>scale</c>/<c>offset</c>, or [0, 1].
    /// </summary>
    public PixelRange? PixelRange { get; set; }

    /// <summary>Multiplies the 8-bit pixel value (1/255 for [0, 1]). Default: from <see cref="PixelRange"/>, the manifest, or 1/255.</summary>
    public double? Scale { get; set; }

    /// <summary>Added after <see cref="Scale"/> (-1 for [-1, 1] with a scale of 1/127.5). Default: from <see cref="PixelRange"/>, the manifest, or 0.</summary>
    public double? Offset { get; set; }

    /// <summary>Per-channel mean subtracted after the scale and offset, in the graph's channel order. Default: the manifest's, or 0.</summary>
    public float[]? Mean { get; set; }

    /// <summary>Per-channel std divided by, in the graph's channel order. Default: the manifest's, or 1.</summary>
    public float[]? Std { get; set; }

    /// <summary>
    /// A per-pixel mean subtracted after the scale and offset (before <see cref="Mean"/>): channels x height x width values, CHW, in
    /// the graph's channel order and at its input size (Caffe-style mean images, ML.NET's ResNet18). Default: the manifest's
    /// <c>mean_image</c> file, or none.
    /// </summary>
    public float[]? MeanImage { get; set; }

    /// <summary>The graph's channel order, RGB (torchvision, timm) or BGR (Caffe, OpenCV). Default: the manifest's <c>color</c>, or RGB.</summary>
    public ChannelOrder? ChannelOrder { get; set; }

    /// <summary>
    /// The input tensor's layout, NCHW (PyTorch) or NHWC (TensorFlow, tf2onnx). Default: the manifest's <c>layout</c>, else the graph's
    /// (NHWC when only its last axis is 1 or 3), else NCHW.
    /// </summary>
    public ImageLayout? Layout { get; set; }

    /// <summary>
    /// For an embedding output of shape [batch, tokens, size] (a vision transformer's tokens): the class token, or the mean over the
    /// tokens. Default: the manifest's <c>pooling.kind</c> (<c>cls</c>, <c>mean</c>, <c>patch-mean</c>); a token output with neither is refused.
    /// </summary>
    public TokenPooling? TokenPooling { get; set; }

    /// <summary>For raw pixel vectors: their width (default: the model's).</summary>
    public int? RawPixelWidth { get; set; }

    /// <summary>For raw pixel vectors: their height (default: the model's).</summary>
    public int? RawPixelHeight { get; set; }

    /// <summary>For raw pixel vectors: their channels, 1 or 3 (default: the model's). A byte vector with none of the three set is read as an encoded image file.</summary>
    public int? RawPixelChannels { get; set; }

    /// <summary>Images per ONNX Runtime run. A graph whose batch axis is fixed runs at its size instead (the last batch padded), and says so in the log.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>The manifest fields these options decide when a manifest lists them in not_decided (ManifestFields.CheckDecided).</summary>
    internal (string Field, string Option, bool Set)[] DecidedFields() => new[]
    {
        ("preprocessing.width", nameof(ImageWidth), ImageWidth != null), ("preprocessing.height", nameof(ImageHeight), ImageHeight != null),
        ("preprocessing.channels", nameof(ImageChannels), ImageChannels != null), ("preprocessing.color", nameof(ChannelOrder), ChannelOrder != null),
        ("preprocessing.range", nameof(PixelRange), PixelRange != null || Scale != null), ("preprocessing.mean", nameof(Mean), Mean != null || MeanImage != null),
        ("preprocessing.std", nameof(Std), Std != null), ("preprocessing.resize", nameof(Resize), Resize != null),
        ("preprocessing.interpolation", nameof(Interpolation), Interpolation != null), ("pooling.kind", nameof(TokenPooling), TokenPooling != null),
    };
}
