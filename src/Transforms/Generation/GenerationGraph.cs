using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Generation;

/// <summary>
/// A generator's manifest (family <c>seq2seq-generator</c>: an encoder and a decoder graph; or <c>decoder-generator</c>: a
/// decoder-only graph that continues a prompt; docs/generation.md) resolved against its graphs: the vocabularies,
/// the special tokens, the maximum lengths, the decoder's layers, heads and head size, and the tensor names of each run.
/// Every field is read or refused: an unknown field throws <see cref="NotSupportedException"/> naming the manifest and the field.
/// </summary>
internal sealed class GenerationGraph
{
    private static readonly string[] s_top = ["format_version", "name", "family", "opset", "architecture", "training", "metrics", "encoder", "decoder", "source", "target", "special_tokens", "special_token_ids", "generation"];
    private static readonly string[] s_graph = ["model_file", "inputs", "outputs"];
    private static readonly string[] s_decoder = ["model_file", "inputs", "outputs", "layers", "heads", "head_dim", "cache", "contract", "cross"];
    private static readonly string[] s_source = ["kind", "symbols", "lower_case", "append", "max_length", "unknown"];
    private static readonly string[] s_prompt = ["kind", "symbols", "lower_case", "prepend", "max_length", "unknown"];
    private static readonly string[] s_target = ["kind", "symbols", "separator", "max_length"];
    private static readonly string[] s_generation = ["max_new_tokens", "beam_width", "length_penalty"];
    private readonly Dictionary<char, int> _sourceIndex = new();

    private GenerationGraph(string json, string source)
    {
        Json = json;
        Source = source;
        using var doc = ParseJson(json, source);
        var root = doc.RootElement;
        string family = root.TryGetProperty("family", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "(none)";
        if (family != "seq2seq-generator" && family != "decoder-generator")
        {
            throw ManifestFields.Unsupported(source, "family", family, "seq2seq-generator or decoder-generator for GenerateSequenceOnnx");
        }

        HasEncoder = family == "seq2seq-generator";
        Check(root, "", HasEncoder ? s_top : s_top.Where(f => f != "encoder").ToArray());
        if (Int(root, "format_version") != ManifestFields.FormatVersion)
        {
            throw ManifestFields.Unsupported(source, "format_version", root.GetProperty("format_version").ToString(), ManifestFields.FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var decoder = Obj(root, "decoder");
        Check(decoder, "decoder", s_decoder);
        Contract = decoder.TryGetProperty("contract", out _) ? Int(decoder, "contract") : 1;
        if (Contract != 1 && (Contract != 2 || !HasEncoder))
        {
            throw ManifestFields.Unsupported(source, "decoder.contract", Contract.ToString(System.Globalization.CultureInfo.InvariantCulture),
                HasEncoder ? "1 (the decoder takes encoder_hidden_states) or 2 (the encoder outputs cross_key_<i>, cross_value_<i>, which the decoder takes)" : "1 (a decoder-generator has no encoder)");
        }

        if (HasEncoder)
        {
            var encoder = Obj(root, "encoder");
            Check(encoder, "encoder", s_graph);
            EncoderFile = Str(encoder, "model_file");
        }

        DecoderFile = Str(decoder, "model_file");
        Layers = Int(decoder, "layers");
        Heads = Int(decoder, "heads");
        HeadDim = Int(decoder, "head_dim");
        var src = Obj(root, "source");
        Check(src, "source", HasEncoder ? s_source : s_prompt);
        if (Str(src, "kind") != "characters")
        {
            throw ManifestFields.Unsupported(source, "source.kind", Str(src, "kind"), "characters");
        }

        SourceSymbols = Strings(src, "symbols");
        LowerCase = src.GetProperty("lower_case").GetBoolean();
        string append = Str(src, HasEncoder ? "append" : "prepend");
        MaxSourceLength = Int(src, "max_length");
        var tgt = Obj(root, "target");
        Check(tgt, "target", s_target);
        if (Str(tgt, "kind") != "symbols")
        {
            throw ManifestFields.Unsupported(source, "target.kind", Str(tgt, "kind"), "symbols");
        }

        TargetSymbols = Strings(tgt, "symbols");
        Separator = Str(tgt, "separator");
        MaxTargetLength = Int(tgt, "max_length");
        var special = Obj(root, "special_tokens");
        Check(special, "special_tokens", ["pad", "unk", "bos", "eos"]);
        var ids = Obj(root, "special_token_ids");
        Check(ids, "special_token_ids", ["pad", "unk", "bos", "eos"]);
        PadId = SpecialId(special, ids, "pad");
        UnkId = SpecialId(special, ids, "unk");
        BosId = SpecialId(special, ids, "bos");
        EosId = SpecialId(special, ids, "eos");
        if (HasEncoder && (append != TargetSymbols[EosId] || SourceSymbols[EosId] != append))
        {
            throw ManifestFields.Unsupported(source, "source.append", append, $"the end-of-sequence token '{TargetSymbols[EosId]}'");
        }

        if (!HasEncoder && append != TargetSymbols[BosId])
        {
            throw ManifestFields.Unsupported(source, "source.prepend", append, $"the start-of-sequence token '{TargetSymbols[BosId]}'");
        }

        if (!HasEncoder && !SourceSymbols.SequenceEqual(TargetSymbols, StringComparer.Ordinal))
        {
            throw ManifestFields.Unsupported(source, "source.symbols", $"{SourceSymbols.Length} symbols", $"the target.symbols ({TargetSymbols.Length}): a decoder-only model reads back what it writes");
        }

        MaxPromptLength = HasEncoder ? 0 : MaxSourceLength;
        MaxNewTokensLimit = HasEncoder ? MaxTargetLength - 1 : MaxTargetLength - MaxSourceLength;

        for (int i = 0; i < SourceSymbols.Length; i++)
        {
            if (SourceSymbols[i].Length == 1)
            {
                _sourceIndex[SourceSymbols[i][0]] = i;
            }
        }

        var gen = Obj(root, "generation");
        Check(gen, "generation", s_generation);
        MaxNewTokens = Int(gen, "max_new_tokens");
        BeamWidth = Int(gen, "beam_width");
        LengthPenalty = gen.GetProperty("length_penalty").GetDouble();
        if (MaxNewTokens < 1 || MaxNewTokens > MaxNewTokensLimit || MaxSourceLength < 2 || Layers < 1 || Heads < 1 || HeadDim < 1)
        {
            throw ManifestFields.Unsupported(source, "generation.max_new_tokens", MaxNewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"1 to {(HasEncoder ? "target.max_length - 1" : "target.max_length - source.max_length")} ({MaxNewTokensLimit}), with positive decoder layers, heads and head_dim");
        }
    }

    public string Json { get; }

    public string Source { get; }

    public string EncoderFile { get; } = "";

    public string DecoderFile { get; }

    /// <summary>True for an encoder-decoder (<c>seq2seq-generator</c>); false for a decoder-only graph (<c>decoder-generator</c>).</summary>
    public bool HasEncoder { get; }

    /// <summary>
    /// The decoder contract (docs/generation.md): 1, the decoder takes <c>encoder_hidden_states</c> (and recomputes the
    /// cross-attention keys and values every step); 2, the encoder graph outputs every layer's <c>cross_key_i</c> and
    /// <c>cross_value_i</c>, which the decoder takes instead. <c>decoder.contract</c> of the manifest; absent means 1.
    /// </summary>
    public int Contract { get; }

    /// <summary>True when the cross-attention keys and values come from the encoder graph once per batch (contract 2).</summary>
    public bool CrossCached => Contract == 2;

    public int Layers { get; }

    public int Heads { get; }

    public int HeadDim { get; }

    public int ModelDim { get; private set; }

    public int Vocabulary => TargetSymbols.Length;

    public string[] SourceSymbols { get; }

    public bool LowerCase { get; }

    public int MaxSourceLength { get; }

    /// <summary>Prompt tokens before generation, start-of-sequence included (decoder-only graphs); 0 for an encoder-decoder.</summary>
    public int MaxPromptLength { get; }

    /// <summary>The largest <c>MaxNewTokens</c> the decoder's positions allow.</summary>
    public int MaxNewTokensLimit { get; }

    public string[] TargetSymbols { get; }

    public string Separator { get; }

    public int MaxTargetLength { get; }

    public int PadId { get; }

    public int UnkId { get; }

    public int BosId { get; }

    public int EosId { get; }

    public int MaxNewTokens { get; }

    public int BeamWidth { get; }

    public double LengthPenalty { get; }

    public string[] EncoderInputs { get; } = ["input_ids", "attention_mask"];

    public string[] EncoderOutputs { get; private set; } = ["encoder_hidden_states"];

    public string[] DecoderInputs { get; private set; } = [];

    public string[] DecoderOutputs { get; private set; } = [];

    public static GenerationGraph Parse(string json, string source) => new(json, source);

    /// <summary>The source symbol of <paramref name="c"/> (after lower-casing when the manifest says so), or -1.</summary>
    public int SourceId(char c)
    {
        if (LowerCase)
        {
            c = char.ToLowerInvariant(c);
        }

        return _sourceIndex.TryGetValue(c, out int id) && id != PadId && id != UnkId && id != BosId && id != EosId ? id : -1;
    }

    /// <summary>Checks the graphs' tensors against the manifest (names, element types, sizes) and fixes the names of each run.</summary>
    public void Bind(OnnxModel? encoder, OnnxModel decoder)
    {
        string[] past = Enumerable.Range(0, Layers).SelectMany(i => new[] { $"past_key_{i}", $"past_value_{i}" }).ToArray();
        string[] present = Enumerable.Range(0, Layers).SelectMany(i => new[] { $"key_{i}", $"value_{i}" }).ToArray();
        string[] cross = Enumerable.Range(0, CrossCached ? Layers : 0).SelectMany(i => new[] { $"cross_key_{i}", $"cross_value_{i}" }).ToArray();
        string[] memory = !HasEncoder ? [] : CrossCached ? ["encoder_attention_mask", .. cross] : ["encoder_hidden_states", "encoder_attention_mask"];
        DecoderInputs = ["input_ids", "position_ids", "attention_mask", .. memory, .. past];
        DecoderOutputs = ["logits", .. present];
        if (CrossCached)
        {
            EncoderOutputs = cross;
        }

        CheckContract(encoder, decoder);
        Expect(decoder, DecoderInputs, isInput: true);
        Expect(decoder, DecoderOutputs, isInput: false);
        if (!HasEncoder && decoder.InputMetadata.ContainsKey("encoder_hidden_states"))
        {
            throw new NotSupportedException($"Model {decoder.Name} has the input 'encoder_hidden_states', but the manifest {Source} is a decoder-generator (no encoder): use the family seq2seq-generator.");
        }

        if (HasEncoder)
        {
            ArgumentNullException.ThrowIfNull(encoder);
            Expect(encoder, EncoderInputs, isInput: true);
            Expect(encoder, EncoderOutputs, isInput: false);
            if (!CrossCached)
            {
                var hidden = encoder.OutputMetadata["encoder_hidden_states"].Dimensions;
                ModelDim = hidden.Length == 3 && hidden[2] > 0 ? hidden[2]
                    : throw new NotSupportedException($"Model {encoder.Name}: encoder_hidden_states must be [batch, source, dim] with a fixed dim; it is [{string.Join(", ", hidden)}].");
            }

            foreach (string name in cross)
            {
                CheckCross(encoder.Name, name, "output", encoder.OutputMetadata[name].Dimensions);
                CheckCross(decoder.Name, name, "input", decoder.InputMetadata[name].Dimensions);
            }
        }

        var logits = decoder.OutputMetadata["logits"].Dimensions;
        if (logits.Length != 3 || logits[2] != Vocabulary)
        {
            throw new NotSupportedException($"Model {decoder.Name}: logits must be [batch, new, {Vocabulary}] (the manifest {Source} lists {Vocabulary} target symbols); it is [{string.Join(", ", logits)}].");
        }

        foreach (string name in past.Concat(present))
        {
            var dims = (past.Contains(name) ? decoder.InputMetadata : decoder.OutputMetadata)[name].Dimensions;
            if (dims.Length != 4 || dims[2] != Heads || dims[3] != HeadDim)
            {
                throw new NotSupportedException($"Model {decoder.Name}: {name} must be [positions, batch, {Heads}, {HeadDim}] (decoder.heads and decoder.head_dim of the manifest {Source}); it is [{string.Join(", ", dims)}].");
            }
        }
    }

    /// <summary>Refuses graphs of the other contract than the manifest's, naming the tensor that shows it.</summary>
    private void CheckContract(OnnxModel? encoder, OnnxModel decoder)
    {
        if (!HasEncoder)
        {
            return;
        }

        string? wrong = CrossCached
            ? (decoder.InputMetadata.ContainsKey("encoder_hidden_states") ? "the input 'encoder_hidden_states'" : null)
            : decoder.InputMetadata.ContainsKey("cross_key_0") ? "the input 'cross_key_0'" : null;
        string model = decoder.Name;
        if (wrong == null && CrossCached && encoder != null && !encoder.OutputMetadata.ContainsKey("cross_key_0"))
        {
            (wrong, model) = ("no output 'cross_key_0'", encoder.Name);
        }

        if (wrong != null)
        {
            throw new NotSupportedException($"Model {model} has {wrong}, but the manifest {Source} says decoder.contract {Contract}: " +
                (CrossCached ? "the encoder outputs cross_key_<i>, cross_value_<i> and the decoder takes them instead of encoder_hidden_states" : "the decoder takes encoder_hidden_states (set decoder.contract 2 for graphs with cross_key_<i> inputs)") + " (docs/generation.md).");
        }
    }

    private void CheckCross(string model, string name, string kind, int[] dims)
    {
        if (dims.Length != 4 || dims[1] != Heads || dims[3] != HeadDim)
        {
            throw new NotSupportedException($"Model {model}: the {kind} {name} must be [batch, {Heads}, source, {HeadDim}] (decoder.heads and decoder.head_dim of the manifest {Source}); it is [{string.Join(", ", dims)}].");
        }
    }

    private static void Expect(OnnxModel model, string[] names, bool isInput)
    {
        var metadata = isInput ? model.InputMetadata : model.OutputMetadata;
        foreach (string name in names)
        {
            if (!metadata.ContainsKey(name))
            {
                throw new NotSupportedException($"Model {model.Name} has no {(isInput ? "input" : "output")} '{name}', which a generator's graph needs (docs/generation.md; its {(isInput ? "inputs" : "outputs")}: {string.Join(", ", metadata.Keys)}).");
            }
        }
    }

    private int SpecialId(JsonElement tokens, JsonElement ids, string key)
    {
        int id = Int(ids, key);
        string token = Str(tokens, key);
        if (id < 0 || id >= TargetSymbols.Length || TargetSymbols[id] != token || id >= SourceSymbols.Length || SourceSymbols[id] != token)
        {
            throw ManifestFields.Unsupported(Source, $"special_token_ids.{key}", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"the index of '{token}' in source.symbols and target.symbols");
        }

        return id;
    }

    private void Check(JsonElement obj, string block, string[] known)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (!known.Contains(p.Name, StringComparer.Ordinal))
            {
                string field = block.Length == 0 ? p.Name : $"{block}.{p.Name}";
                throw new NotSupportedException($"The model manifest {Source} has the field '{field}', which MlNotes does not read (docs/generation.md lists the fields: {string.Join(", ", known)}).");
            }
        }
    }

    private JsonElement Obj(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw Missing(key, "an object");

    private string Str(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Missing(key, "a string");

    private int Int(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Missing(key, "an integer");

    private string[] Strings(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToArray() : throw Missing(key, "an array of strings");

    private FormatException Missing(string key, string what) => new($"The model manifest {Source} lacks '{key}' as {what} (docs/generation.md).");

    private static JsonDocument ParseJson(string json, string source)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The model manifest {source} is not valid JSON: {e.Message}", e);
        }
    }
}
