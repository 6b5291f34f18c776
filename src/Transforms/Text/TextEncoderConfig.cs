using System;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Text;

/// <summary>
/// What a text encoder resolved from its manifest and options (<see cref="TextEncoderResolver.Resolve"/>). Format v1 stored it as
/// JSON (still read); v2 writes each field explicitly (<see cref="Save"/>, <see cref="Load"/>); v3 adds the tokenizer's kind, its
/// id offset and prefix space, and start, end and mask tokens that a kind may lack (null).
/// </summary>
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

    /// <summary>The token every sequence starts with ([CLS], &lt;s&gt;), or null for none (T5, GPT-2).</summary>
    public string? ClsToken { get; init; } = "[CLS]";

    /// <summary>The token every sequence ends with ([SEP], &lt;/s&gt;), or null for none (GPT-2).</summary>
    public string? SepToken { get; init; } = "[SEP]";

    public string PadToken { get; init; } = "[PAD]";

    public string? MaskToken { get; init; } = "[MASK]";

    /// <summary>The tokenizer (v1 and v2: WordPiece).</summary>
    public TextTokenizerKind Tokenizer { get; init; }

    /// <summary>Added to SentencePiece ids (fairseq's XLM-R: 1; <see cref="SentencePieceTextTokenizer"/>).</summary>
    public int IdOffset { get; init; }

    /// <summary>Byte-level BPE: a space before the text (RoBERTa's add_prefix_space).</summary>
    public bool AddPrefixSpace { get; init; }

    public string[] ClassNames { get; init; } = Array.Empty<string>();

    public int EmbeddingSize { get; init; }

    /// <summary>The last axis of the token states (the hidden size), which may differ from a pooled output's size; 0 without token states.</summary>
    public int HiddenSize { get; init; }

    public int BatchSize { get; init; }

    public int SortWindow { get; init; }

    /// <summary>The first problem of settings read back from a model zip against the graph saved with them, or null.</summary>
    public string? Problem(OnnxModel model)
    {
        string? embeddingTensor = Pooling == TextPooling.Graph ? PooledTensorName : HiddenStateTensorName;
        int size = embeddingTensor != null && model.OutputMetadata.TryGetValue(embeddingTensor, out var embedding) && embedding.Dimensions.Length > 0 ? embedding.Dimensions[^1] : -1;
        int hiddenSize = HiddenStateTensorName != null && model.OutputMetadata.TryGetValue(HiddenStateTensorName, out var hidden) && hidden.Dimensions.Length > 0 ? Math.Max(hidden.Dimensions[^1], 0) : 0;
        int classes = LogitsTensorName != null && model.OutputMetadata.TryGetValue(LogitsTensorName, out var logits) && logits.Dimensions.Length > 0 ? logits.Dimensions[^1] : 0;
        return ModelEntry.First(
            string.IsNullOrEmpty(InputColumnName) || string.IsNullOrEmpty(EmbeddingColumnName) ? "its input or embedding column name is empty" : null,
            BatchSize < 1 || SortWindow < 1 ? $"its batch size {BatchSize} and sort window {SortWindow} must be at least 1" : null,
            MaxLength < 2 ? $"its maximum length {MaxLength} leaves no room for [CLS] and [SEP] (at least 2)" : null,
            MaxCharsPerWord < 1 ? $"its maximum characters per word is {MaxCharsPerWord}, not at least 1" : null,
            !Enum.IsDefined(Pooling) ? $"its pooling {(int)Pooling} is unknown" : null,
            new[] { UnknownToken, PadToken }.Any(string.IsNullOrEmpty) || new[] { ClsToken, SepToken, MaskToken }.Any(t => t?.Length == 0)
                || (Tokenizer == TextTokenizerKind.WordPiece && new[] { ClsToken, SepToken, MaskToken }.Any(t => t == null)) ? "one of its special tokens is empty" : null,
            !Enum.IsDefined(Tokenizer) ? $"its tokenizer {(int)Tokenizer} is unknown" : null,
            IdOffset < 0 || IdOffset > 1000 || (IdOffset > 0 && Tokenizer != TextTokenizerKind.SentencePiece) ? $"its id offset {IdOffset} is not 0, or between 1 and 1000 for SentencePiece" : null,
            ModelEntry.MissingTensor("input ids tensor", InputIdsTensorName, model.InputMetadata, "input"),
            AttentionMaskTensorName != null ? ModelEntry.MissingTensor("attention mask tensor", AttentionMaskTensorName, model.InputMetadata, "input") : null,
            TokenTypeIdsTensorName != null ? ModelEntry.MissingTensor("token type ids tensor", TokenTypeIdsTensorName, model.InputMetadata, "input") : null,
            HiddenStateTensorName != null ? ModelEntry.MissingTensor("token states tensor", HiddenStateTensorName, model.OutputMetadata, "output") : null,
            PooledTensorName != null ? ModelEntry.MissingTensor("pooled tensor", PooledTensorName, model.OutputMetadata, "output") : null,
            LogitsTensorName != null ? ModelEntry.MissingTensor("logits tensor", LogitsTensorName, model.OutputMetadata, "output") : null,
            EmbeddingSize < 1 || EmbeddingSize != size ? $"its embedding size {EmbeddingSize} is not the {size} of the saved ONNX model's '{embeddingTensor}'" : null,
            HiddenSize != hiddenSize ? $"its token state size {HiddenSize} is not the {hiddenSize} of the saved ONNX model's '{HiddenStateTensorName}'" : null,
            TokenEmbeddingsColumnName != null && (HiddenStateTensorName == null || HiddenSize < 1) ? "its token embeddings column comes without token states" : null,
            string.IsNullOrEmpty(InputIdsTensorName) ? "its input ids tensor name is empty" : null,
            ClassNames != null && ClassNames.Any(string.IsNullOrEmpty) ? "one of its class names is empty" : null,
            ClassNames == null || ClassNames.Length != classes ? $"it has {ClassNames?.Length ?? 0} class names for the {classes} classes of the saved ONNX model" : null,
            (ScoreColumnName == null) != (PredictedLabelColumnName == null) || (ScoreColumnName != null && LogitsTensorName == null)
                ? "its score and predicted-label columns do not come with logits" : null);
    }

    /// <summary>The v1 format: the settings as one JSON string (before <see cref="HiddenSize"/> was stored: the loader takes it from the graph).</summary>
    public static TextEncoderConfig? FromJson(string json) => JsonSerializer.Deserialize<TextEncoderConfig>(json);

    /// <summary>The v3 format: v2's fields in order (strings in the string table, -1 for null), then the tokenizer's kind, id offset and prefix space.</summary>
    public void Save(ModelSaveContext ctx)
    {
        ctx.SaveNonEmptyString(InputColumnName);
        ctx.SaveNonEmptyString(EmbeddingColumnName);
        ctx.SaveStringOrNull(ScoreColumnName);
        ctx.SaveStringOrNull(PredictedLabelColumnName);
        ctx.SaveStringOrNull(TokenEmbeddingsColumnName);
        ctx.SaveNonEmptyString(InputIdsTensorName);
        ctx.SaveStringOrNull(AttentionMaskTensorName);
        ctx.SaveStringOrNull(TokenTypeIdsTensorName);
        ctx.SaveStringOrNull(HiddenStateTensorName);
        ctx.SaveStringOrNull(PooledTensorName);
        ctx.SaveStringOrNull(LogitsTensorName);
        ctx.SaveNonEmptyString(UnknownToken);
        ctx.SaveStringOrNull(ClsToken);
        ctx.SaveStringOrNull(SepToken);
        ctx.SaveNonEmptyString(PadToken);
        ctx.SaveStringOrNull(MaskToken);

        var w = ctx.Writer;
        w.Write((int)Pooling);
        w.Write(Normalize);
        w.Write(MaxLength);
        w.Write(LowerCase);
        w.Write(StripAccents);
        w.Write(TokenizeCjk);
        w.Write(MaxCharsPerWord);
        w.Write(EmbeddingSize);
        w.Write(HiddenSize);
        w.Write(BatchSize);
        w.Write(SortWindow);
        w.Write(ClassNames.Length);
        foreach (string name in ClassNames)
        {
            ctx.SaveNonEmptyString(name);
        }

        w.Write((int)Tokenizer);
        w.Write(IdOffset);
        w.Write(AddPrefixSpace);
    }

    /// <summary>Reads what <see cref="Save"/> wrote (<paramref name="v3"/>) or v2 (no tokenizer fields: WordPiece); <see cref="Problem"/> then checks it against the graph.</summary>
    public static TextEncoderConfig Load(ModelLoadContext ctx, bool v3) => ModelEntry.Read(ctx, () =>
    {
        var r = ctx.Reader;
        var config = new TextEncoderConfig
        {
            InputColumnName = ctx.LoadNonEmptyString(),
            EmbeddingColumnName = ctx.LoadNonEmptyString(),
            ScoreColumnName = ctx.LoadStringOrNull(),
            PredictedLabelColumnName = ctx.LoadStringOrNull(),
            TokenEmbeddingsColumnName = ctx.LoadStringOrNull(),
            InputIdsTensorName = ctx.LoadNonEmptyString(),
            AttentionMaskTensorName = ctx.LoadStringOrNull(),
            TokenTypeIdsTensorName = ctx.LoadStringOrNull(),
            HiddenStateTensorName = ctx.LoadStringOrNull(),
            PooledTensorName = ctx.LoadStringOrNull(),
            LogitsTensorName = ctx.LoadStringOrNull(),
            UnknownToken = ctx.LoadNonEmptyString(),
            ClsToken = v3 ? ctx.LoadStringOrNull() : ctx.LoadNonEmptyString(),
            SepToken = v3 ? ctx.LoadStringOrNull() : ctx.LoadNonEmptyString(),
            PadToken = ctx.LoadNonEmptyString(),
            MaskToken = v3 ? ctx.LoadStringOrNull() : ctx.LoadNonEmptyString(),
            Pooling = (TextPooling)r.ReadInt32(),
            Normalize = r.ReadBoolean(),
            MaxLength = r.ReadInt32(),
            LowerCase = r.ReadBoolean(),
            StripAccents = r.ReadBoolean(),
            TokenizeCjk = r.ReadBoolean(),
            MaxCharsPerWord = r.ReadInt32(),
            EmbeddingSize = r.ReadInt32(),
            HiddenSize = r.ReadInt32(),
            BatchSize = r.ReadInt32(),
            SortWindow = r.ReadInt32(),
        };
        int count = r.ReadInt32();
        if (count < 0 || count > 1_000_000)
        {
            ThrowHelper.CorruptEntry(ctx, $"its class count {count} is not between 0 and 1000000");
        }

        var names = new string[count];
        for (int i = 0; i < count; i++)
        {
            names[i] = ctx.LoadNonEmptyString();
        }

        config = config with { ClassNames = names };
        return v3 ? config with { Tokenizer = (TextTokenizerKind)r.ReadInt32(), IdOffset = r.ReadInt32(), AddPrefixSpace = r.ReadBoolean() } : config;
    });
}
