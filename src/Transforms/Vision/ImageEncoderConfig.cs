using System.Text.Json;

namespace MlNotes.Transforms.Vision;

/// <summary>Everything an image encoder resolved from its manifest and options; stored as JSON in the model zip.</summary>
internal sealed record ImageEncoderConfig
{
    public string InputColumnName { get; init; } = "Image";

    public string OutputColumnName { get; init; } = "ImageEmbedding";

    public string? ErrorColumnName { get; init; }

    public string ImageTensorName { get; init; } = "";

    public string EmbeddingTensorName { get; init; } = "";

    public bool Normalize { get; init; }

    public ImagePreprocessingSettings Preprocessing { get; init; } = null!;

    public int RawPixelWidth { get; init; }

    public int RawPixelHeight { get; init; }

    public int RawPixelChannels { get; init; }

    public int BatchSize { get; init; }

    public string? ImageFolder { get; init; }

    public string? ImagePathColumnName { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this);

    public static ImageEncoderConfig? FromJson(string json) => JsonSerializer.Deserialize<ImageEncoderConfig>(json);
}
