using System;
using System.Text.Json;

namespace MlNotes.Transforms.Text;

/// <summary>What a text encoder resolved from its manifest and options; stored as JSON in the model zip.</summary>
internal sealed record TextEncoderConfig
{
    public string InputColumnName { get; init; } = "Text";

    public string EmbeddingColumnName { get; init; } = "Embedding";

    public string? ScoreColumnName { get; init; }

    public string? PredictedLabelColumnName { get; init; }

    public string? TokenEmbeddingsColumnName { get; init; }

    public string InputIdsTensorName { get; init; } = "input_ids";

    public string? AttentionMaskTensorName { get; init; }

    public string? TokenTypeIdsTensorName { get; init; }

    public string? HiddenStateTensorName { get; init; }

    public string? PooledTensorName { get; init; }

    public string? LogitsTensorName { get; init; }

    public TextPooling Pooling { get; init; }

    public bool Normalize { get; init; }

    public int MaxLength { get; init; }

    public bool LowerCase { get; init; }

    public bool StripAccents { get; init; }

    public bool TokenizeCjk { get; init; }

    public int MaxCharsPerWord { get; init; } = 100;

    public string UnknownToken { get; init; } = "[UNK]";

    public string ClsToken { get; init; } = "[CLS]";

    public string SepToken { get; init; } = "[SEP]";

    public string PadToken { get; init; } = "[PAD]";

    public string MaskToken { get; init; } = "[MASK]";

    public string[] ClassNames { get; init; } = Array.Empty<string>();

    public int EmbeddingSize { get; init; }

    public int BatchSize { get; init; }

    public int SortWindow { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this);

    public static TextEncoderConfig? FromJson(string json) => JsonSerializer.Deserialize<TextEncoderConfig>(json);
}
