using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MlNotes.Transforms.Text;

/// <summary>
/// BERT's basic tokenization (the step before WordPiece), as Google's BERT and Hugging Face's BertTokenizer run it: drop
/// control characters, make CJK ideographs words of their own, split on whitespace, lower-case and strip accents, then make every
/// punctuation character a word of its own. Every other character stays inside its word, so a symbol outside the vocab becomes
/// [UNK]. Microsoft.ML.Tokenizers' own BERT pre-tokenizer drops such characters (€, ©, emoji, ^) instead, which would change
/// the ids the graph was trained on; MlNotes runs this step itself and the library's WordPiece on each word.
/// </summary>
internal static class BertBasicTokenizer
{
    public static List<string> Split(string text, bool lowerCase, bool stripAccents, bool splitCjk)
    {
        var words = new List<string>();
        var word = new StringBuilder(32);
        Span<char> utf16 = stackalloc char[2];
        foreach (var rune in text.EnumerateRunes())
        {
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune))
            {
                continue;
            }

            if (IsWhitespace(rune) || (splitCjk && IsCjk(cp)))
            {
                Flush(words, word, lowerCase, stripAccents);
                if (!IsWhitespace(rune))
                {
                    words.Add(rune.ToString());
                }

                continue;
            }

            int length = rune.EncodeToUtf16(utf16);
            word.Append(utf16[..length]);
        }

        Flush(words, word, lowerCase, stripAccents);
        return words;
    }

    // A whitespace-delimited token: lower-case and strip accents, then split off every punctuation character.
    private static void Flush(List<string> words, StringBuilder token, bool lowerCase, bool stripAccents)
    {
        if (token.Length == 0)
        {
            return;
        }

        string text = token.ToString();
        token.Clear();
        bool ascii = System.Text.Ascii.IsValid(text);
        if (lowerCase)
        {
            text = ascii ? AsciiLower(text) : text.ToLowerInvariant();
        }

        if (stripAccents && !ascii)
        {
            text = StripAccents(text);
        }

        int start = 0;
        int i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int consumed);
            if (IsPunctuation(rune))
            {
                if (i > start)
                {
                    words.Add(text[start..i]);
                }

                words.Add(text.Substring(i, consumed));
                start = i + consumed;
            }

            i += consumed;
        }

        if (start < text.Length)
        {
            words.Add(start == 0 ? text : text[start..]);
        }
    }

    private static string AsciiLower(string text)
    {
        foreach (char c in text)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return text.ToLowerInvariant();
            }
        }

        return text;
    }

    private static string StripAccents(string word)
    {
        string decomposed = word.Normalize(NormalizationForm.FormD);
        var kept = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                kept.Append(c);
            }
        }

        return kept.ToString();
    }

    private static bool IsWhitespace(Rune rune)
        => rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    private static bool IsControl(Rune rune)
    {
        if (rune.Value is '\t' or '\n' or '\r')
        {
            return false;
        }

        var category = Rune.GetUnicodeCategory(rune);
        return category is UnicodeCategory.Control or UnicodeCategory.Format;
    }

    private static bool IsPunctuation(Rune rune)
    {
        int cp = rune.Value;
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsCjk(int cp)
        => cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
