using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Text;

/// <summary>One graph input or output as the text encoder's settings need it: its element type and dimensions (0 or less where dynamic).</summary>
internal sealed record TextGraphTensor(TensorElementType Type, int[] Dims)
{
    public int LastDim => Dims.Length > 0 ? Dims[^1] : -1;
}

/// <summary>What the settings read from a graph: its name and its inputs and outputs (built from a session, or by hand in a test).</summary>
internal sealed record TextGraph(string Name, IReadOnlyDictionary<string, TextGraphTensor> Inputs, IReadOnlyDictionary<string, TextGraphTensor> Outputs)
{
    public static TextGraph Of(OnnxModel model) => new(model.Name, Tensors(model.InputMetadata), Tensors(model.OutputMetadata));

    private static Dictionary<string, TextGraphTensor> Tensors(IReadOnlyDictionary<string, Microsoft.ML.OnnxRuntime.NodeMetadata> metadata)
        => metadata.ToDictionary(m => m.Key, m => new TextGraphTensor(m.Value.IsTensor ? m.Value.ElementDataType : TensorElementType.DataTypeMax, m.Value.Dimensions), StringComparer.Ordinal);
}

/// <summary>
/// The text encoder's settings, resolved in one pure function from its options, its manifest and the graph's metadata: every
/// manifest field is honoured or refused here, when the pipeline is built.
/// </summary>
internal static class TextEncoderResolver
{
    /// <summary>The tokenizer kinds a manifest may name.</summary>
    public const string SupportedTokenizers = "bert-wordpiece, sentencepiece, byte-level-bpe";

    private static readonly Dictionary<string, TextTokenizerKind> s_tokenizerNames = new(StringComparer.Ordinal)
    {
        ["bert-wordpiece"] = TextTokenizerKind.WordPiece,
        ["sentencepiece"] = TextTokenizerKind.SentencePiece,
        ["byte-level-bpe"] = TextTokenizerKind.ByteLevelBpe,
    };

    private static readonly Dictionary<string, TextPooling> s_poolingNames = new(StringComparer.Ordinal)
    {
        ["mean"] = TextPooling.Mean,
        ["masked-mean"] = TextPooling.Mean,
        ["cls"] = TextPooling.Cls,
        ["max"] = TextPooling.Max,
        ["masked-max"] = TextPooling.Max,
        ["mean-sqrt-len"] = TextPooling.MeanSqrtLength,
        ["mean_sqrt_len_tokens"] = TextPooling.MeanSqrtLength,
        ["end-of-text"] = TextPooling.EndOfText,
        ["eot"] = TextPooling.EndOfText,
    };

    private static readonly string[] s_specialKeys = { "unk", "cls", "sep", "pad", "mask" };
    private static readonly TensorElementType[] s_idTypes = { TensorElementType.Int64, TensorElementType.Int32 };
    private static readonly TensorElementType[] s_outputTypes = { TensorElementType.Float, TensorElementType.Float16, TensorElementType.Double };

    /// <summary>
    /// The tokenizer's files: options first, then the manifest's (relative to it), then the model folder's. The kind: the
    /// option, the manifest's, the folder's, else by the vocab file's name (.model: SentencePiece, .json: byte-level BPE).
    /// </summary>
    public static (TextTokenizerKind Kind, string Vocab, string? Merges) TokenizerFiles(OnnxTextEncoderEstimator.Options o, ModelManifest? manifest, TextModelFolder? folder)
    {
        CheckDecided(o, manifest, folder);
        string? manifestFolder = manifest?.Source.Trim('\'') is { Length: > 0 } source ? Path.GetDirectoryName(source) : null;
        string? Relative(string? file) => file != null && manifestFolder != null ? Path.Combine(manifestFolder, file) : null;
        string? vocab = o.VocabFile ?? Relative(manifest?.Tokenizer?.VocabFile) ?? folder?.VocabFile;
        if (vocab == null)
        {
            return ThrowHelper.BadOption<(TextTokenizerKind, string, string?)>(nameof(o.VocabFile),
                "A text encoder needs its tokenizer's vocab: set VocabFile (vocab.txt, a SentencePiece .model, or a BPE vocab.json), ModelFolder, or give a manifest whose tokenizer block names vocab_file.");
        }

        if (o.Tokenizer is { } option && !Enum.IsDefined(option))
        {
            ThrowHelper.BadOption(nameof(o.Tokenizer), $"Tokenizer {(int)option} is not a TextTokenizerKind value (supported: {string.Join(", ", Enum.GetNames<TextTokenizerKind>())}).");
        }

        var kind = o.Tokenizer ?? ParseTokenizer(manifest) ?? folder?.Kind ?? Path.GetExtension(vocab).ToLowerInvariant() switch
        {
            ".model" => TextTokenizerKind.SentencePiece,
            ".json" => TextTokenizerKind.ByteLevelBpe,
            _ => TextTokenizerKind.WordPiece,
        };
        string? merges = o.MergesFile ?? Relative(manifest?.Tokenizer?.MergesFile) ?? folder?.MergesFile;
        if (kind == TextTokenizerKind.ByteLevelBpe && merges == null)
        {
            ThrowHelper.BadOption(nameof(o.MergesFile), $"A byte-level BPE tokenizer needs its merges.txt beside the vocab '{vocab}': set MergesFile, ModelFolder, or the manifest's tokenizer merges_file.");
        }
        else if (kind != TextTokenizerKind.ByteLevelBpe && o.MergesFile != null)
        {
            ThrowHelper.BadOption(nameof(o.MergesFile), $"MergesFile is read by a byte-level BPE tokenizer only, and this one is {kind}.");
        }

        return (kind, vocab, kind == TextTokenizerKind.ByteLevelBpe ? merges : null);
    }

    // A manifest's not_decided fields (written by MlNotes.Inspect) must be set by the options or the folder: before the files are read.
    private static void CheckDecided(OnnxTextEncoderEstimator.Options o, ModelManifest? manifest, TextModelFolder? folder)
        => ManifestFields.CheckDecided(manifest, "EncodeTextOnnx", ("tokenizer.vocab_file", nameof(o.VocabFile), o.VocabFile != null || folder != null),
            ("tokenizer.lower_case", nameof(o.LowerCase), o.LowerCase != null || folder?.LowerCase != null), ("pooling.kind", nameof(o.Pooling), o.Pooling != null || folder?.Pooling != null));

    public static TextEncoderConfig Resolve(OnnxTextEncoderEstimator.Options o, ModelManifest? manifest, TextGraph graph, TextModelFolder? folder = null, TextTokenizerKind kind = TextTokenizerKind.WordPiece)
    {
        OnnxScoringTransformer.CheckBatchSize(o.BatchSize);
        if (o.SortWindow < 1)
        {
            ThrowHelper.BadOption(nameof(o.SortWindow), $"SortWindow must be at least 1 batch, got {o.SortWindow}.");
        }

        CheckManifestBlocks(manifest);
        CheckDecided(o, manifest, folder);
        string? Present(string? name, bool input) => name != null && (input ? graph.Inputs : graph.Outputs).ContainsKey(name) ? name : null;
        string Require(string? name, bool input, string option)
        {
            var tensors = input ? graph.Inputs : graph.Outputs;
            if (name == null || !tensors.ContainsKey(name))
            {
                return ThrowHelper.BadOption<string>(option,
                    $"The ONNX model {graph.Name} has no {(input ? "input" : "output")} named '{name}' (its {(input ? "inputs" : "outputs")}: {string.Join(", ", tensors.Keys)}).");
            }

            return name;
        }

        string inputIds = Require(o.InputIdsTensorName ?? manifest?.Role("input_ids") ?? "input_ids", true, nameof(o.InputIdsTensorName));
        string? mask = o.AttentionMaskTensorName != null ? Require(o.AttentionMaskTensorName, true, nameof(o.AttentionMaskTensorName)) : Present(manifest?.Role("attention_mask") ?? "attention_mask", true);
        string? types = o.TokenTypeIdsTensorName != null ? Require(o.TokenTypeIdsTensorName, true, nameof(o.TokenTypeIdsTensorName)) : Present(manifest?.Role("token_type_ids") ?? "token_type_ids", true);
        foreach (string input in graph.Inputs.Keys)
        {
            if (input != inputIds && input != mask && input != types)
            {
                ThrowHelper.InvalidOperation($"The ONNX model {graph.Name} has an input '{input}' that a text encoder does not feed (it feeds input ids, attention mask and token type ids).");
            }
        }

        string? hidden = o.HiddenStateTensorName != null ? Require(o.HiddenStateTensorName, false, nameof(o.HiddenStateTensorName)) : Present(manifest?.Role("last_hidden_state") ?? "last_hidden_state", false);
        string? manifestPooled = manifest?.Pooling?.Output;
        if (manifestPooled != null && Present(manifestPooled, false) == null)
        {
            ThrowHelper.InvalidOperation($"The model manifest {manifest!.Source} names the pooling output '{manifestPooled}', which the ONNX model {graph.Name} does not have (its outputs: {string.Join(", ", graph.Outputs.Keys)}).");
        }

        // A graph without token states that names an embedding output (CLIP's text tower) pools inside the graph.
        string? pooled = o.PooledTensorName != null
            ? Require(o.PooledTensorName, false, nameof(o.PooledTensorName))
            : manifestPooled ?? (hidden == null ? Present(manifest?.Role("embedding"), false) : null);
        string? logits = o.LogitsTensorName != null ? Require(o.LogitsTensorName, false, nameof(o.LogitsTensorName)) : Present(manifest?.Role("logits") ?? "logits", false);
        TextPooling? manifestPooling = ParsePooling(manifest);
        var pooling = o.Pooling ?? (pooled != null ? TextPooling.Graph : manifestPooling ?? folder?.Pooling ?? TextPooling.Mean);
        if (!Enum.IsDefined(pooling))
        {
            ThrowHelper.BadOption(nameof(o.Pooling), $"Pooling {(int)pooling} is not a TextPooling value (supported: {string.Join(", ", Enum.GetNames<TextPooling>())}).");
        }

        if (pooling == TextPooling.Graph && pooled == null)
        {
            ThrowHelper.BadOption(nameof(o.Pooling), $"Pooling Graph needs the graph's pooled output: the ONNX model {graph.Name} has none named (set PooledTensorName, or the manifest's pooling output).");
        }

        if (pooling != TextPooling.Graph && hidden == null)
        {
            ThrowHelper.BadOption(nameof(o.HiddenStateTensorName), $"Pooling {pooling} needs the token states: the ONNX model {graph.Name} has no 'last_hidden_state' output; name it with HiddenStateTensorName.");
        }

        CheckTypes(graph, new[] { inputIds, mask, types }, s_idTypes, input: true);
        CheckTypes(graph, new[] { hidden, pooling == TextPooling.Graph ? pooled : null, logits }, s_outputTypes, input: false);
        int embeddingSize = pooling == TextPooling.Graph ? graph.Outputs[pooled!].LastDim : graph.Outputs[hidden!].LastDim;
        if (embeddingSize <= 0)
        {
            ThrowHelper.InvalidOperation($"The ONNX model {graph.Name} leaves the embedding size dynamic: its last axis must be fixed.");
        }

        int hiddenSize = hidden != null ? graph.Outputs[hidden].LastDim : 0;
        string? tokenColumn = hidden != null ? o.TokenEmbeddingsColumnName : null;
        if (tokenColumn != null && hiddenSize <= 0)
        {
            ThrowHelper.InvalidOperation($"The ONNX model {graph.Name} leaves the token state size of '{hidden}' dynamic: its last axis must be fixed for TokenEmbeddingsColumnName.");
        }

        string[] classes = Array.Empty<string>();
        if (logits != null)
        {
            int count = graph.Outputs[logits].LastDim;
            classes = o.ClassNames ?? manifest?.Labels ?? Enumerable.Range(0, Math.Max(count, 0)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            if (count <= 0 || classes.Length != count)
            {
                ThrowHelper.BadOption(nameof(o.ClassNames), $"The ONNX output '{logits}' of model {graph.Name} gives {count} classes, but there are {classes.Length} class names.");
            }
        }
        else if (o.ClassNames != null)
        {
            ThrowHelper.BadOption(nameof(o.ClassNames), $"ClassNames name the classes of a logits output, and the ONNX model {graph.Name} has none: name it with LogitsTensorName, or leave ClassNames unset.");
        }

        var tokenizer = manifest?.Tokenizer;
        var special = tokenizer?.SpecialTokens;
        // The option, then the manifest's kind, then what the files said (TokenizerFiles: the folder's, the vocab's name).
        kind = o.Tokenizer ?? ParseTokenizer(manifest) ?? kind;
        bool wordPiece = kind == TextTokenizerKind.WordPiece;
        string? Special(string key, string? fallback)
            => special != null && special.TryGetValue(key, out string? token) ? token
                : folder != null && folder.Kind == kind && folder.Special.TryGetValue(key, out string? found) ? found : fallback;
        int maxLength = o.MaxLength ?? tokenizer?.MaxLength ?? folder?.MaxLength ?? 512;
        if (maxLength < 2)
        {
            ThrowHelper.BadOption(nameof(o.MaxLength), $"MaxLength must leave room for [CLS] and [SEP]: at least 2, got {maxLength}.");
        }

        if (!wordPiece && tokenizer != null && (tokenizer.StripAccents != null || tokenizer.TokenizeCjkChars != null || tokenizer.MaxCharsPerWord != null))
        {
            Refuse(manifest!, "tokenizer.strip_accents, tokenize_cjk_chars or max_chars_per_word", $"these with kind bert-wordpiece only (this tokenizer is {kind})");
        }

        if ((tokenizer?.IdOffset is { } offset && (kind != TextTokenizerKind.SentencePiece || offset is < 0 or > 1000))
            || (tokenizer?.AddPrefixSpace != null && kind != TextTokenizerKind.ByteLevelBpe))
        {
            Refuse(manifest!, "tokenizer.id_offset or add_prefix_space", "id_offset 0 to 1000 with kind sentencepiece, add_prefix_space with kind byte-level-bpe");
        }

        bool lower = o.LowerCase ?? tokenizer?.LowerCase ?? folder?.LowerCase ?? wordPiece;
        var config = new TextEncoderConfig
        {
            InputColumnName = o.InputColumnName,
            EmbeddingColumnName = o.EmbeddingColumnName,
            ScoreColumnName = logits != null ? o.ScoreColumnName : null,
            PredictedLabelColumnName = logits != null ? o.PredictedLabelColumnName : null,
            TokenEmbeddingsColumnName = tokenColumn,
            InputIdsTensorName = inputIds,
            AttentionMaskTensorName = mask,
            TokenTypeIdsTensorName = types,
            HiddenStateTensorName = hidden,
            PooledTensorName = pooled,
            LogitsTensorName = logits,
            Pooling = pooling,
            Normalize = o.Normalize || (folder?.Normalize ?? false),
            MaxLength = maxLength,
            LowerCase = lower,
            StripAccents = wordPiece && (tokenizer?.StripAccents ?? lower),
            TokenizeCjk = wordPiece && (tokenizer?.TokenizeCjkChars ?? true),
            MaxCharsPerWord = tokenizer?.MaxCharsPerWord ?? 100,
            Tokenizer = kind,
            IdOffset = tokenizer?.IdOffset ?? (folder?.Kind == kind ? folder.IdOffset : 0),
            AddPrefixSpace = tokenizer?.AddPrefixSpace ?? (folder?.Kind == kind && folder.AddPrefixSpace),
            UnknownToken = Special("unk", wordPiece ? "[UNK]" : "<unk>") ?? "",
            ClsToken = Special("cls", wordPiece ? "[CLS]" : "<s>"),
            SepToken = Special("sep", wordPiece ? "[SEP]" : "</s>"),
            PadToken = Special("pad", wordPiece ? "[PAD]" : "<pad>") ?? "",
            MaskToken = Special("mask", wordPiece ? "[MASK]" : null),
            ClassNames = classes,
            EmbeddingSize = embeddingSize,
            HiddenSize = hiddenSize,
            BatchSize = o.BatchSize,
            SortWindow = o.SortWindow,
        };
        if (config.MaxCharsPerWord < 1 || new[] { config.UnknownToken, config.PadToken }.Any(string.IsNullOrEmpty)
            || new[] { config.ClsToken, config.SepToken, config.MaskToken }.Any(t => t?.Length == 0 || (wordPiece && t == null)))
        {
            Refuse(manifest!, "tokenizer.max_chars_per_word or tokenizer.special_tokens", "a positive max_chars_per_word and non-empty special tokens");
        }

        return config;
    }

    /// <summary>The manifest's <c>special_token_ids</c>, where it gives them, must be the ids the vocab gives its special tokens (<paramref name="idOf"/> a key: unk, cls...).</summary>
    public static void CheckSpecialTokenIds(ModelManifest? manifest, Func<string, int?> idOf)
    {
        if (manifest == null)
        {
            return;
        }

        using var document = JsonDocument.Parse(manifest.Json);
        if (!document.RootElement.TryGetProperty("tokenizer", out var tokenizer) || tokenizer.ValueKind != JsonValueKind.Object
            || !tokenizer.TryGetProperty("special_token_ids", out var ids))
        {
            return;
        }

        if (ids.ValueKind != JsonValueKind.Object)
        {
            Refuse(manifest, "tokenizer.special_token_ids", "an object of ids keyed " + string.Join(", ", s_specialKeys));
        }

        foreach (var id in ids.EnumerateObject())
        {
            int? actual = s_specialKeys.Contains(id.Name) ? idOf(id.Name) : null;
            if (actual == null || id.Value.ValueKind != JsonValueKind.Number || !id.Value.TryGetInt32(out int expected) || expected != actual)
            {
                Refuse(manifest, $"tokenizer.special_token_ids.{id.Name} ({id.Value.GetRawText()})",
                    $"keys {string.Join(", ", s_specialKeys)}, each the vocab's id of its token (here {(actual?.ToString(CultureInfo.InvariantCulture) ?? "none")})");
            }
        }
    }

    private static void CheckManifestBlocks(ModelManifest? manifest)
    {
        if (manifest == null)
        {
            return;
        }

        var tokenizer = manifest.Tokenizer;
        ParseTokenizer(manifest);

        if (tokenizer?.SpecialTokens?.Keys.FirstOrDefault(k => !s_specialKeys.Contains(k)) is { } unknownKey)
        {
            Refuse(manifest, $"tokenizer.special_tokens.{unknownKey}", string.Join(", ", s_specialKeys));
        }

        using var document = JsonDocument.Parse(manifest.Json);
        var root = document.RootElement;
        if (root.TryGetProperty("tokenizer", out var block) && block.ValueKind == JsonValueKind.Object
            && block.TryGetProperty("continuation_prefix", out var prefix) && !(prefix.ValueKind == JsonValueKind.String && prefix.GetString() == "##"))
        {
            Refuse(manifest, $"tokenizer.continuation_prefix ({prefix.GetRawText()})", "\"##\"");
        }

        if (root.TryGetProperty("pooling", out var pooling) && pooling.ValueKind == JsonValueKind.Object
            && pooling.TryGetProperty("token", out var token))
        {
            string sep = tokenizer?.SpecialTokens?.GetValueOrDefault("sep") ?? "[SEP]";
            bool endOfText = manifest.Pooling?.Kind is "end-of-text" or "eot";
            if (!endOfText || token.ValueKind != JsonValueKind.String || token.GetString() != sep)
            {
                Refuse(manifest, $"pooling.token ({token.GetRawText()})", $"\"{sep}\" (the sep token) with pooling kind end-of-text, the last token of each text");
            }
        }
    }

    private static TextTokenizerKind? ParseTokenizer(ModelManifest? manifest)
    {
        string? kind = manifest?.Tokenizer?.Kind;
        if (kind == null)
        {
            return null;
        }

        return s_tokenizerNames.TryGetValue(kind, out var parsed)
            ? parsed
            : Refuse<TextTokenizerKind>(manifest!, $"tokenizer.kind ('{kind}')", SupportedTokenizers);
    }

    private static TextPooling? ParsePooling(ModelManifest? manifest)
    {
        string? kind = manifest?.Pooling?.Kind;
        if (kind == null)
        {
            return null;
        }

        return s_poolingNames.TryGetValue(kind, out var pooling)
            ? pooling
            : Refuse<TextPooling>(manifest!, $"pooling.kind ('{kind}')", string.Join(", ", s_poolingNames.Keys));
    }

    private static void CheckTypes(TextGraph graph, string?[] names, TensorElementType[] supported, bool input)
    {
        foreach (string? name in names)
        {
            if (name != null && (input ? graph.Inputs : graph.Outputs)[name] is { } tensor && !supported.Contains(tensor.Type))
            {
                ThrowHelper.NotSupported<int>(
                    $"The ONNX {(input ? "input" : "output")} '{name}' of model {graph.Name} has element type {tensor.Type}; a text encoder supports " +
                    string.Join(", ", supported) + ".");
            }
        }
    }

    private static void Refuse(ModelManifest manifest, string field, string supported) => Refuse<int>(manifest, field, supported);

    private static T Refuse<T>(ModelManifest manifest, string field, string supported)
        => ThrowHelper.NotSupported<T>($"The model manifest {manifest.Source} sets {field}, which the text encoder does not support (supported: {supported}).");
}
