using System.Collections.Generic;
using System.IO;
using Microsoft.ML.Tokenizers;

namespace MlNotes.Transforms.Text;

/// <summary>
/// A SentencePiece unigram or BPE model through Microsoft.ML.Tokenizers' <see cref="SentencePieceTokenizer"/>, corrected to give
/// SentencePiece's own ids: a run of characters the model does not know is one unknown id in SentencePiece (the library emits one
/// per character: <c>C++</c> gave <c>0, 0</c> against <c>0</c>). With an id offset (fairseq's XLM-R and multilingual-e5
/// exports: 1), <c>&lt;s&gt;</c> <c>&lt;pad&gt;</c> <c>&lt;/s&gt;</c> <c>&lt;unk&gt;</c> are 0 to 3 and every other piece is its
/// model id plus the offset, as Hugging Face's XLMRobertaTokenizer maps them. The library does not apply the model's
/// normalization rule either (<c>nmt_nfkc</c>, spm_train's default and XLM-R's: <c>½</c> stays, a tab is unknown), so
/// <see cref="SentencePieceNormalization"/> applies it first.
/// </summary>
internal sealed class SentencePieceTextTokenizer : TextTokenizer
{
    private static readonly string[] s_fairseq = { "<s>", "<pad>", "</s>", "<unk>" };
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly TextEncoderConfig _config;
    private readonly int _unknown;
    private readonly SentencePieceNormalization.Rule _rule;

    public SentencePieceTextTokenizer(TextEncoderConfig c, byte[] model)
    {
        _config = c;
        _rule = SentencePieceNormalization.RuleOf(model);
        using var stream = new MemoryStream(model);
        _tokenizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        _unknown = Map(_tokenizer.UnknownId);
        StartId = c.ClsToken != null ? Require(c.ClsToken, "start") : null;
        EndId = c.SepToken != null ? Require(c.SepToken, "end") : null;
        PadId = Id(c.PadToken) ?? _unknown;
        VocabSize = _tokenizer.Vocabulary.Count + c.IdOffset + (c.IdOffset > 0 && c.MaskToken != null ? 1 : 0);
    }

    public override int PadId { get; }

    public override int VocabSize { get; }

    public override int? SpecialId(string key) => key switch
    {
        "unk" => _unknown,
        "cls" => StartId,
        "sep" => EndId,
        "pad" => PadId,
        "mask" => _config.MaskToken != null ? Id(_config.MaskToken) : null,
        _ => null,
    };

    protected override void AddPieces(string text, List<int> ids)
    {
        if (_config.LowerCase)
        {
            text = text.ToLowerInvariant();
        }

        text = SentencePieceNormalization.Apply(_rule, text);
        int raw = _tokenizer.UnknownId;
        bool previousUnknown = false;
        foreach (int id in _tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false))
        {
            // SentencePiece merges a run of unknown characters into one unknown piece (without byte fallback).
            bool unknown = id == raw && !_tokenizer.ByteFallback;
            if (!(unknown && previousUnknown))
            {
                ids.Add(Map(id));
            }

            previousUnknown = unknown;
        }
    }

    private int Map(int id) => _config.IdOffset == 0 ? id : id == _tokenizer.UnknownId ? 3 : id + _config.IdOffset;

    private int? Id(string token)
    {
        if (_config.IdOffset > 0)
        {
            int fixedId = System.Array.IndexOf(s_fairseq, token);
            if (fixedId >= 0)
            {
                return fixedId;
            }

            // fairseq's <mask> follows the last piece.
            if (token == _config.MaskToken && !_tokenizer.Vocabulary.ContainsKey(token))
            {
                return _tokenizer.Vocabulary.Count + _config.IdOffset;
            }
        }

        return _tokenizer.Vocabulary.TryGetValue(token, out int id) ? Map(id) : null;
    }

    private int Require(string token, string role)
        => Id(token) ?? ThrowHelper.InvalidOperation<int>($"The SentencePiece model has no piece '{token}' for the {role} of each sequence (set the manifest's tokenizer.special_tokens, or a folder's special_tokens_map.json).");
}
