using System.Text;
using Google.Protobuf;

namespace MlNotes.Transforms.Text;

/// <summary>
/// The normalization a SentencePiece model names in its <c>normalizer_spec</c> (<c>nmt_nfkc</c>, <c>nfkc</c>, their <c>_cf</c>
/// case-folding variants, or <c>identity</c>), applied as SentencePiece's rules state it: nmt drops the control characters and
/// makes tab, newline and the other line and space marks spaces, then Unicode NFKC. Microsoft.ML.Tokenizers 2.0.1 reads the
/// model's pieces but not this rule; whitespace runs and the dummy prefix stay the library's.
/// </summary>
internal static class SentencePieceNormalization
{
    internal enum Rule
    {
        Identity,
        Nfkc,
        NmtNfkc,
        NfkcCaseFold,
        NmtNfkcCaseFold,
    }

    /// <summary>The rule a serialized ModelProto names (field 3, normalizer_spec; its field 1, name); spm_train's default when absent.</summary>
    public static Rule RuleOf(byte[] model)
    {
        string name = "nmt_nfkc";
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == ((3 << 3) | 2))
            {
                var spec = new CodedInputStream(input.ReadBytes().ToByteArray());
                uint inner;
                while ((inner = spec.ReadTag()) != 0)
                {
                    if (inner == ((1 << 3) | 2))
                    {
                        name = spec.ReadString();
                    }
                    else
                    {
                        spec.SkipLastField();
                    }
                }
            }
            else
            {
                input.SkipLastField();
            }
        }

        return name switch
        {
            "identity" => Rule.Identity,
            "nfkc" => Rule.Nfkc,
            "nfkc_cf" => Rule.NfkcCaseFold,
            "nmt_nfkc_cf" => Rule.NmtNfkcCaseFold,
            "nmt_nfkc" => Rule.NmtNfkc,
            _ => ThrowHelper.NotSupported<Rule>($"The SentencePiece model's normalizer_spec names the rule '{name}', which MlNotes does not apply (supported: identity, nfkc, nmt_nfkc, nfkc_cf, nmt_nfkc_cf)."),
        };
    }

    public static string Apply(Rule rule, string text)
    {
        if (rule == Rule.Identity)
        {
            return text;
        }

        if (rule is Rule.NmtNfkc or Rule.NmtNfkcCaseFold)
        {
            var kept = new StringBuilder(text.Length);
            foreach (char c in text)
            {
                if (c is (>= '\u0000' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F' or '\u008F' or '\u009F')
                {
                    continue;
                }

                kept.Append(c is '\t' or '\n' or '\u000C' or '\r' or '\u1680' or (>= '\u200B' and <= '\u200F') or '\u2028' or '\u2029' or '\u2581' or '\uFEFF' or '\uFFFD' ? ' ' : c);
            }

            text = kept.ToString();
        }

        text = text.Normalize(NormalizationForm.FormKC);
        return rule is Rule.NfkcCaseFold or Rule.NmtNfkcCaseFold ? text.ToLowerInvariant() : text;
    }
}
