using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace MlNotes.Transforms.Text;

/// <summary>
/// What an exported model folder says, as sentence-transformers and Hugging Face Optimum write it: the graph (<c>model.onnx</c>
/// or <c>onnx/model.onnx</c>), the tokenizer's files (<c>vocab.txt</c>; <c>sentencepiece.bpe.model</c>, <c>spiece.model</c> or
/// <c>tokenizer.model</c>; <c>vocab.json</c> and <c>merges.txt</c>) and settings (<c>tokenizer_config.json</c>,
/// <c>special_tokens_map.json</c>, <c>sentence_bert_config.json</c>), pooling and normalization (<c>modules.json</c>,
/// <c>1_Pooling/config.json</c>). Read once; <see cref="TextEncoderResolver"/> decides with it.
/// </summary>
internal sealed record TextModelFolder
{
    /// <summary>The tokenizer classes read, by the prefix of <c>tokenizer_class</c>.</summary>
    public const string SupportedClasses = "Bert, DistilBert, Electra, MPNet (WordPiece); XLMRoberta, Camembert, T5, MT5 (SentencePiece); Roberta, Bart, GPT2 (byte-level BPE)";

    public string Folder { get; init; } = "";

    public string? OnnxFile { get; init; }

    public TextTokenizerKind Kind { get; init; }

    public string VocabFile { get; init; } = "";

    public string? MergesFile { get; init; }

    public bool? LowerCase { get; init; }

    public int? MaxLength { get; init; }

    public TextPooling? Pooling { get; init; }

    public bool Normalize { get; init; }

    /// <summary>The special tokens by the manifest's keys (unk, cls, sep, pad, mask); a start or end of null means none.</summary>
    public IReadOnlyDictionary<string, string?> Special { get; init; } = new Dictionary<string, string?>();

    public int IdOffset { get; init; }

    public bool AddPrefixSpace { get; init; }

    public static TextModelFolder Read(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The model folder '{folder}' does not exist.");
        }

        string? File(params string[] names) => names.Select(n => Path.Combine(folder, n)).FirstOrDefault(System.IO.File.Exists);
        var config = Json(File("tokenizer_config.json"));
        var map = Json(File("special_tokens_map.json"));
        var bert = Json(File("sentence_bert_config.json"));
        string? tokenizerClass = String(config, "tokenizer_class");
        string? sentencePiece = File("sentencepiece.bpe.model", "spiece.model", "tokenizer.model");
        string? vocabJson = File("vocab.json"), merges = File("merges.txt"), vocabTxt = File("vocab.txt");
        var (kind, vocab) = (tokenizerClass ?? "") switch
        {
            var c when Is(c, "XLMRoberta", "Camembert", "T5", "MT5") => (TextTokenizerKind.SentencePiece, sentencePiece),
            var c when Is(c, "Roberta", "Bart", "GPT2") => (TextTokenizerKind.ByteLevelBpe, vocabJson),
            var c when Is(c, "Bert", "DistilBert", "Electra", "MPNet") => (TextTokenizerKind.WordPiece, vocabTxt),
            "" => vocabTxt != null ? (TextTokenizerKind.WordPiece, vocabTxt)
                : sentencePiece != null ? (TextTokenizerKind.SentencePiece, sentencePiece)
                : (TextTokenizerKind.ByteLevelBpe, vocabJson),
            _ => ThrowHelper.NotSupported<(TextTokenizerKind, string?)>(
                $"The model folder '{folder}' has tokenizer_config.json's tokenizer_class '{tokenizerClass}', which MlNotes does not read (supported: {SupportedClasses})."),
        };
        if (vocab == null || (kind == TextTokenizerKind.ByteLevelBpe && merges == null))
        {
            string wanted = kind switch
            {
                TextTokenizerKind.WordPiece => "vocab.txt",
                TextTokenizerKind.SentencePiece => "sentencepiece.bpe.model, spiece.model or tokenizer.model",
                _ => "vocab.json and merges.txt",
            };
            throw new FileNotFoundException($"The model folder '{folder}' has no tokenizer files MlNotes reads for {(tokenizerClass ?? "its tokenizer")}: it needs {wanted} (tokenizer.json alone is not read).");
        }

        bool fairseq = Is(tokenizerClass ?? "", "XLMRoberta", "Camembert") || (tokenizerClass == null && Path.GetFileName(vocab) == "sentencepiece.bpe.model");
        bool t5 = Is(tokenizerClass ?? "", "T5", "MT5") || (tokenizerClass == null && Path.GetFileName(vocab) == "spiece.model");
        bool gpt2 = Is(tokenizerClass ?? "", "GPT2");
        string? Token(string key, string? fallback) => String(config, key) ?? String(map, key) ?? fallback;
        var special = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["unk"] = Token("unk_token", kind == TextTokenizerKind.WordPiece ? "[UNK]" : gpt2 ? "<|endoftext|>" : "<unk>"),
            ["pad"] = Token("pad_token", kind == TextTokenizerKind.WordPiece ? "[PAD]" : gpt2 ? "<|endoftext|>" : "<pad>"),
            ["cls"] = t5 || gpt2 ? null : Token("cls_token", null) ?? Token("bos_token", kind == TextTokenizerKind.WordPiece ? "[CLS]" : "<s>"),
            ["sep"] = gpt2 ? null : Token("sep_token", null) ?? Token("eos_token", kind == TextTokenizerKind.WordPiece ? "[SEP]" : "</s>"),
            ["mask"] = Token("mask_token", kind == TextTokenizerKind.WordPiece ? "[MASK]" : null),
        };
        var (pooling, normalize) = ReadModules(folder);
        int? maxLength = Int(bert, "max_seq_length") ?? Int(config, "model_max_length");
        return new TextModelFolder
        {
            Folder = folder,
            OnnxFile = File("model.onnx", Path.Combine("onnx", "model.onnx")) ?? SingleOnnx(folder),
            Kind = kind,
            VocabFile = vocab,
            MergesFile = kind == TextTokenizerKind.ByteLevelBpe ? merges : null,
            // The tokenizer's own do_lower_case; sentence-transformers' do_lower_case lower-cases on top of it (its default: false).
            LowerCase = Bool(bert, "do_lower_case") == true ? true : Bool(config, "do_lower_case") ?? (kind == TextTokenizerKind.WordPiece ? null : false),
            MaxLength = maxLength is > 0 and < 1_000_000 ? maxLength : null,
            Pooling = pooling,
            Normalize = normalize,
            Special = special,
            IdOffset = fairseq ? 1 : 0,
            AddPrefixSpace = Bool(config, "add_prefix_space") ?? false,
        };
    }

    private static bool Is(string tokenizerClass, params string[] prefixes)
        => prefixes.Any(p => tokenizerClass == p + "Tokenizer" || tokenizerClass == p + "TokenizerFast");

    private static string? SingleOnnx(string folder)
    {
        var found = new[] { folder, Path.Combine(folder, "onnx") }.Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "*.onnx")).ToArray();
        return found.Length == 1 ? found[0] : null;
    }

    // sentence-transformers: modules.json lists the modules; a Pooling module's folder holds config.json; Normalize L2-normalizes.
    private static (TextPooling?, bool) ReadModules(string folder)
    {
        var modules = Json(Path.Combine(folder, "modules.json"));
        string poolingFolder = "1_Pooling";
        bool normalize = false;
        if (modules is { ValueKind: JsonValueKind.Array } list)
        {
            foreach (var module in list.EnumerateArray())
            {
                string type = String(module, "type") ?? "";
                if (type.EndsWith(".Pooling", StringComparison.Ordinal))
                {
                    poolingFolder = String(module, "path") ?? poolingFolder;
                }

                normalize |= type.EndsWith(".Normalize", StringComparison.Ordinal);
            }
        }

        string path = Path.Combine(folder, poolingFolder, "config.json");
        var pooling = Json(path);
        if (pooling == null)
        {
            return (null, normalize);
        }

        var modes = new (string Key, TextPooling Pooling)[]
        {
            ("pooling_mode_cls_token", TextPooling.Cls), ("pooling_mode_mean_tokens", TextPooling.Mean),
            ("pooling_mode_max_tokens", TextPooling.Max), ("pooling_mode_mean_sqrt_len_tokens", TextPooling.MeanSqrtLength),
            ("pooling_mode_lasttoken", TextPooling.EndOfText), ("pooling_mode_weightedmean_tokens", (TextPooling)(-1)),
        };
        var chosen = modes.Where(m => Bool(pooling, m.Key) == true).ToArray();
        if (chosen.Length != 1 || chosen[0].Pooling < 0)
        {
            ThrowHelper.NotSupported<int>($"The model folder's '{path}' sets {(chosen.Length == 0 ? "no pooling mode" : string.Join(" and ", chosen.Select(c => c.Key)))}, which MlNotes does not pool (supported: exactly one of "
                + string.Join(", ", modes.Take(5).Select(m => m.Key)) + ").");
        }

        return (chosen[0].Pooling, normalize);
    }

    private static JsonElement? Json(string? path)
    {
        if (path == null || !System.IO.File.Exists(path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"The model folder's '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    // A token is a string or, in newer exports, an object whose "content" is the string.
    private static string? String(JsonElement? element, string key)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e || !e.TryGetProperty(key, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => null,
        };
    }

    private static bool? Bool(JsonElement? element, string key)
        => element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static int? Int(JsonElement? element, string key)
        => element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;
}
