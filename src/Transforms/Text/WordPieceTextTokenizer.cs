using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Tokenizers;

namespace MlNotes.Transforms.Text;

/// <summary>
/// BERT's tokenization: <see cref="BertBasicTokenizer"/> (Google's BasicTokenizer: Microsoft.ML.Tokenizers' own drops symbols
/// outside the vocab) and the library's WordPiece on each word; <c>[CLS] pieces [SEP]</c>.
/// </summary>
internal sealed class WordPieceTextTokenizer : TextTokenizer
{
    private readonly BertTokenizer _tokenizer;
    private readonly TextEncoderConfig _config;

    public WordPieceTextTokenizer(TextEncoderConfig c, byte[] vocab)
    {
        _config = c;
        using var stream = new MemoryStream(vocab);
        _tokenizer = BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = c.LowerCase,
            RemoveNonSpacingMarks = c.StripAccents,
            IndividuallyTokenizeCjk = c.TokenizeCjk,
            ApplyBasicTokenization = true,
            UnknownToken = c.UnknownToken,
            ClassificationToken = c.ClsToken ?? "[CLS]",
            SeparatorToken = c.SepToken ?? "[SEP]",
            PaddingToken = c.PadToken,
            MaskingToken = c.MaskToken ?? "[MASK]",
            MaxInputCharsPerWord = c.MaxCharsPerWord,
        });
        StartId = _tokenizer.ClassificationTokenId;
        EndId = _tokenizer.SeparatorTokenId;
        VocabSize = System.Text.Encoding.UTF8.GetString(vocab).Split('\n').Count(line => line.TrimEnd('\r').Length > 0);
    }

    public override int PadId => _tokenizer.PaddingTokenId;

    public override int VocabSize { get; }

    public override int? SpecialId(string key) => key switch
    {
        "unk" => _tokenizer.UnknownTokenId,
        "cls" => _tokenizer.ClassificationTokenId,
        "sep" => _tokenizer.SeparatorTokenId,
        "pad" => _tokenizer.PaddingTokenId,
        "mask" => _tokenizer.MaskingTokenId,
        _ => null,
    };

    protected override void AddPieces(string text, List<int> ids)
    {
        foreach (string word in BertBasicTokenizer.Split(text, _config.LowerCase, _config.StripAccents, _config.TokenizeCjk))
        {
            // WordPiece on one word: a word it cannot cover, or one past MaxCharsPerWord, is [UNK].
            ids.AddRange(_tokenizer.EncodeToIds(word, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false));
        }
    }
}
