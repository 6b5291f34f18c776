using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace MlNotes.Transforms.Text;

/// <summary>
/// Byte-level BPE (GPT-2, RoBERTa) through Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> in byte-level mode over
/// <c>vocab.json</c> and <c>merges.txt</c>, with GPT-2's pre-tokenizer (contractions, letters, digits, other symbols, each with
/// its leading space; whitespace runs). RoBERTa's <c>add_prefix_space</c> puts a space before the text.
/// </summary>
internal sealed partial class ByteLevelBpeTextTokenizer : TextTokenizer
{
    private readonly BpeTokenizer _tokenizer;
    private readonly Dictionary<string, int> _vocab;
    private readonly TextEncoderConfig _config;

    public ByteLevelBpeTextTokenizer(TextEncoderConfig c, byte[] vocab, byte[] merges)
    {
        _config = c;
        _vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(vocab)
            ?? throw new FormatException("The byte-level BPE vocab.json is not an object of token ids.");
        var mergeLines = Encoding.UTF8.GetString(merges).Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            .ToList();
        _tokenizer = BpeTokenizer.Create(new BpeOptions(_vocab)
        {
            Merges = mergeLines,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2Pattern(), null),
        });
        StartId = c.ClsToken != null ? Require(c.ClsToken, "start") : null;
        EndId = c.SepToken != null ? Require(c.SepToken, "end") : null;
        PadId = (_vocab.TryGetValue(c.PadToken, out int pad) ? pad : (int?)null) ?? EndId ?? 0;
        VocabSize = _vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1;
    }

    public override int PadId { get; }

    public override int VocabSize { get; }

    public override int? SpecialId(string key) => key switch
    {
        "unk" => _vocab.TryGetValue(_config.UnknownToken, out int unk) ? unk : null,
        "cls" => StartId,
        "sep" => EndId,
        "pad" => PadId,
        "mask" => _config.MaskToken != null && _vocab.TryGetValue(_config.MaskToken, out int mask) ? mask : null,
        _ => null,
    };

    protected override void AddPieces(string text, List<int> ids)
    {
        if (_config.LowerCase)
        {
            text = text.ToLowerInvariant();
        }

        if (_config.AddPrefixSpace && text.Length > 0 && text[0] != ' ')
        {
            text = " " + text;
        }

        ids.AddRange(_tokenizer.EncodeToIds(text));
    }

    // GPT-2's encoder.py pattern.
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Pattern();

    private int Require(string token, string role)
        => _vocab.TryGetValue(token, out int id) ? id
            : ThrowHelper.InvalidOperation<int>($"The byte-level BPE vocab.json has no token '{token}' for the {role} of each sequence (set the manifest's tokenizer.special_tokens, or a folder's special_tokens_map.json).");
}
