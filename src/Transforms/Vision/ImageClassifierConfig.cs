using System.Text.Json;

namespace MlNotes.Transforms.Vision;

/// <summary>Everything an image classifier resolved from its manifest and options; stored as JSON in the model zip.</summary>
internal sealed record ImageClassifierConfig
{
    private static readonly JsonSerializerOptions s_json = new() { IncludeFields = false };

    public string InputColumnName { get; init; } = "Image";

    public string ScoreColumnName { get; init; } = "Score";

    public string PredictedLabelColumnName { get; init; } = "PredictedLabel";

    public string? EmbeddingColumnName { get; init; }

    public int TopK { get; init; }

    public string? ErrorColumnName { get; init; }

    public string ImageTensorName { get; init; } = "";

    public string LogitsTensorName { get; init; } = "";

    public string? EmbeddingTensorName { get; init; }

    public string[] ClassNames { get; init; } = System.Array.Empty<string>();

    public ImagePreprocessingSettings Preprocessing { get; init; } = null!;

    public int RawPixelWidth { get; init; }

    public int RawPixelHeight { get; init; }

    public int RawPixelChannels { get; init; }

    public int BatchSize { get; init; }

    /// <summary>For a column of image paths: the folder they are relative to.</summary>
    public string? ImageFolder { get; init; }

    /// <summary>A column of image paths to name in error messages (the path LoadImages read).</summary>
    public string? ImagePathColumnName { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static ImageClassifierConfig? FromJson(string json) => JsonSerializer.Deserialize<ImageClassifierConfig>(json, s_json);
}
