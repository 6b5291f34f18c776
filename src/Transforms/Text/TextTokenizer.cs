using System;
using System.Collections.Generic;

namespace MlNotes.Transforms.Text;

/// <summary>
/// Text to the ids a graph was trained on: the start token where the kind has one, the pieces of Microsoft.ML.Tokenizers (with
/// MlNotes' corrections where it differs from the reference implementation), cut to the maximum length, the end token.
/// </summary>
internal abstract class TextTokenizer
{
    /// <summary>The id padded rows carry (masked out).</summary>
    public abstract int PadId { get; }

    /// <summary>The id every sequence starts with, or null (T5, GPT-2).</summary>
    public int? StartId { get; protected init; }

    /// <summary>The id every sequence ends with, or null (GPT-2).</summary>
    public int? EndId { get; protected init; }

    /// <summary>The number of ids the tokenizer can emit (the largest id plus one).</summary>
    public abstract int VocabSize { get; }

    /// <summary>The tokenizer for <paramref name="config"/> over the saved files (vocab.txt, a .model, or vocab.json and merges.txt).</summary>
    public static TextTokenizer Create(TextEncoderConfig config, byte[] vocab, byte[]? merges) => config.Tokenizer switch
    {
        TextTokenizerKind.SentencePiece => new SentencePieceTextTokenizer(config, vocab),
        TextTokenizerKind.ByteLevelBpe => new ByteLevelBpeTextTokenizer(config, vocab, merges ?? throw new ArgumentNullException(nameof(merges))),
        _ => new WordPieceTextTokenizer(config, vocab),
    };

    /// <summary>The id of a special token by its manifest key (unk, cls, sep, pad, mask), or null where there is none.</summary>
    public abstract int? SpecialId(string key);

    /// <summary>The ids of <paramref name="text"/>: start, pieces (cut so that the whole fits <paramref name="maxLength"/>), end.</summary>
    public List<int> Encode(string text, int maxLength, out bool truncated)
    {
        var ids = new List<int>();
        if (StartId is int start)
        {
            ids.Add(start);
        }

        AddPieces(text, ids);
        int room = maxLength - (EndId != null ? 1 : 0);
        truncated = ids.Count > room;
        if (truncated)
        {
            ids.RemoveRange(room, ids.Count - room);
        }

        if (EndId is int end)
        {
            ids.Add(end);
        }

        return ids;
    }

    /// <summary>Appends the pieces of <paramref name="text"/> (no special tokens).</summary>
    protected abstract void AddPieces(string text, List<int> ids);
}
