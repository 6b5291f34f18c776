namespace MlNotes.Transforms.Vision;

/// <summary>
/// The settings every image model resolves the same way (the image column and tensor, preprocessing, the raw pixel size, the
/// batch size, where paths are read from and the error column); each family's config adds its own outputs.
/// </summary>
internal abstract record ImageModelConfig
{
    public string InputColumnName { get; init; } = "Image";

    public string? ErrorColumnName { get; init; }

    public string ImageTensorName { get; init; } = "";

    public ImagePreprocessingSettings Preprocessing { get; init; } = null!;

    public int RawPixelWidth { get; init; }

    public int RawPixelHeight { get; init; }

    public int RawPixelChannels { get; init; }

    public int BatchSize { get; init; }

    /// <summary>For a column of image paths: the folder they are relative to.</summary>
    public string? ImageFolder { get; init; }

    /// <summary>A column of image paths to name in error messages (the path LoadImages read).</summary>
    public string? ImagePathColumnName { get; init; }

    /// <summary>The fields the image formats write in this order after their own.</summary>
    public ImageInputFields InputFields => new(Preprocessing, RawPixelWidth, RawPixelHeight, RawPixelChannels, BatchSize, ImageFolder, ImagePathColumnName);

    /// <summary>This config with the shared fields read back from a model zip (<paramref name="preprocessing"/>: with its v3 fields when there are).</summary>
    public ImageModelConfig WithInput(ImageInputFields fields, ImagePreprocessingSettings preprocessing) => this with
    {
        Preprocessing = preprocessing,
        RawPixelWidth = fields.RawPixelWidth,
        RawPixelHeight = fields.RawPixelHeight,
        RawPixelChannels = fields.RawPixelChannels,
        BatchSize = fields.BatchSize,
        ImageFolder = fields.ImageFolder,
        ImagePathColumnName = fields.ImagePathColumnName,
    };

    /// <summary>The shared settings as the options give them, with the resolved image tensor and preprocessing (what both families' resolutions set).</summary>
    public ImageModelConfig WithImageOptions(OnnxImageModelOptions o, string imageTensor, ImagePreprocessingSettings preprocessing) => this with
    {
        InputColumnName = o.InputColumnName,
        ErrorColumnName = o.ContinueOnError ? o.ErrorColumnName : null,
        ImageTensorName = imageTensor,
        Preprocessing = preprocessing,
        RawPixelWidth = o.RawPixelWidth ?? 0,
        RawPixelHeight = o.RawPixelHeight ?? 0,
        RawPixelChannels = o.RawPixelChannels ?? 0,
        BatchSize = o.BatchSize,
        ImageFolder = o.ImageFolder,
        ImagePathColumnName = o.ImagePathColumnName,
    };

    /// <summary>How the mapper reads the image column.</summary>
    public ImageInput CreateInput() => new(InputColumnName, ImageFolder, ImagePathColumnName, Preprocessing, RawPixelWidth, RawPixelHeight, RawPixelChannels);
}
