using System;
using System.Linq;
using System.Text.Json;
using MlNotes.Transforms.Onnx;

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

    /// <summary>The first problem of settings read back from a model zip against the graph saved with them, or null.</summary>
    public string? Problem(OnnxModel model)
    {
        string? embeddingTensor = Pooling == TextPooling.Graph ? PooledTensorName : HiddenStateTensorName;
        int size = embeddingTensor != null && model.OutputMetadata.TryGetValue(embeddingTensor, out var embedding) && embedding.Dimensions.Length > 0 ? embedding.Dimensions[^1] : -1;
        int classes = LogitsTensorName != null && model.OutputMetadata.TryGetValue(LogitsTensorName, out var logits) && logits.Dimensions.Length > 0 ? logits.Dimensions[^1] : 0;
        return ModelEntry.First(
            string.IsNullOrEmpty(InputColumnName) || string.IsNullOrEmpty(EmbeddingColumnName) ? "its input or embedding column name is empty" : null,
            BatchSize < 1 || SortWindow < 1 ? $"its batch size {BatchSize} and sort window {SortWindow} must be at least 1" : null,
            MaxLength < 2 ? $"its maximum length {MaxLength} leaves no room for [CLS] and [SEP] (at least 2)" : null,
            MaxCharsPerWord < 1 ? $"its maximum characters per word is {MaxCharsPerWord}, not at least 1" : null,
            !Enum.IsDefined(Pooling) ? $"its pooling {(int)Pooling} is unknown" : null,
            new[] { UnknownToken, ClsToken, SepToken, PadToken, MaskToken }.Any(string.IsNullOrEmpty) ? "one of its special tokens is empty" : null,
            ModelEntry.MissingTensor("input ids tensor", InputIdsTensorName, model.InputMetadata, "input"),
            AttentionMaskTensorName != null ? ModelEntry.MissingTensor("attention mask tensor", AttentionMaskTensorName, model.InputMetadata, "input") : null,
            TokenTypeIdsTensorName != null ? ModelEntry.MissingTensor("token type ids tensor", TokenTypeIdsTensorName, model.InputMetadata, "input") : null,
            HiddenStateTensorName != null ? ModelEntry.MissingTensor("token states tensor", HiddenStateTensorName, model.OutputMetadata, "output") : null,
            PooledTensorName != null ? ModelEntry.MissingTensor("pooled tensor", PooledTensorName, model.OutputMetadata, "output") : null,
            LogitsTensorName != null ? ModelEntry.MissingTensor("logits tensor", LogitsTensorName, model.OutputMetadata, "output") : null,
            EmbeddingSize < 1 || EmbeddingSize != size ? $"its embedding size {EmbeddingSize} is not the {size} of the saved ONNX model's '{embeddingTensor}'" : null,
            ClassNames == null || ClassNames.Length != classes ? $"it has {ClassNames?.Length ?? 0} class names for the {classes} classes of the saved ONNX model" : null,
            (ScoreColumnName == null) != (PredictedLabelColumnName == null) || (ScoreColumnName != null && LogitsTensorName == null)
                ? "its score and predicted-label columns do not come with logits" : null);
    }

    public string ToJson() => JsonSerializer.Serialize(this);

    public static TextEncoderConfig? FromJson(string json) => JsonSerializer.Deserialize<TextEncoderConfig>(json);
}
