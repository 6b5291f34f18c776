using System;
using System.Linq;
using System.Text.RegularExpressions;

namespace MlNotes.Transforms.Inspect;

/// <summary>
/// Guesses a tensor's role from its name, element type and shape, by the names the common exporters write (torchvision and timm
/// through <c>torch.onnx.export</c>, Hugging Face Optimum, sentence-transformers, the ONNX model zoo, MlNotes' own graphs).
/// </summary>
internal static partial class TensorRoles
{
    [GeneratedRegex(@"^(past|past_key_values)([._]|$)|^past_(key|value)", RegexOptions.IgnoreCase)]
    private static partial Regex PastName();

    [GeneratedRegex(@"^present([._]|$)|^(key|value)s?_\d+$|^present_(key|value)", RegexOptions.IgnoreCase)]
    private static partial Regex PresentName();

    [GeneratedRegex(@"^cross_(key|value)s?_\d+$", RegexOptions.IgnoreCase)]
    private static partial Regex CrossName();

    public static bool IsFloat(string type) => type is "float32" or "float16" or "float64" or "bfloat16";

    public static bool IsInteger(string type) => type is "int64" or "int32";

    /// <summary>The layout of a rank-4 image input: CHW when the second axis is 1 or 3 channels, HWC when only the last is; null when neither.</summary>
    public static string? ImageLayout(int[] dims, string name)
    {
        if (dims.Length != 4)
        {
            return null;
        }

        bool chw = dims[1] is 1 or 3, hwc = dims[3] is 1 or 3;
        return chw && !hwc ? "CHW"
            : hwc && !chw ? "HWC"
            : chw && hwc ? (dims[2] is 1 or 3 ? null : "CHW")
            : dims[1] <= 0 && dims[3] <= 0 && Has(name, "pixel", "image", "img") ? "CHW" : null;
    }

    public static string? Input(string name, string type, int[] dims)
    {
        string n = name.ToLowerInvariant();
        if (PastName().IsMatch(n))
        {
            return "past_key_values";
        }

        if (CrossName().IsMatch(n))
        {
            return "cross_key_values";
        }

        if (IsInteger(type) || type == "bool")
        {
            return Has(n, "mask") ? (Has(n, "encoder") ? "encoder_attention_mask" : "attention_mask")
                : Has(n, "token_type", "segment") ? "token_type_ids"
                : Has(n, "position") ? "position_ids"
                : Has(n, "ids", "token") || n is "input" or "inputs" or "x" ? "input_ids"
                : null;
        }

        if (!IsFloat(type))
        {
            return null;
        }

        return dims.Length switch
        {
            3 when Has(n, "encoder_hidden", "encoder_output") => "encoder_hidden_states",
            4 when ImageLayout(dims, n) != null => "image",
            4 when Has(n, "code", "latent") => "codes",
            2 when n is "z" or "latent" or "latents" || Has(n, "latent_sample") => "z",
            _ => null,
        };
    }

    public static string? Output(string name, string type, int[] dims)
    {
        string n = name.ToLowerInvariant();
        if (PresentName().IsMatch(n))
        {
            return "present_key_values";
        }

        if (CrossName().IsMatch(n))
        {
            return "cross_key_values";
        }

        if (!IsFloat(type))
        {
            return null;
        }

        return dims.Length switch
        {
            2 when Has(n, "logvar", "log_var") => "logvar",
            2 when n is "mean" or "mu" or "z_mean" => "mean",
            2 when Has(n, "logit", "prob", "softmax", "score") => "logits",
            2 when Has(n, "embed", "feature", "pool", "sentence") => "embedding",
            3 when Has(n, "encoder_hidden", "encoder_output") => "encoder_hidden_states",
            3 when Has(n, "logit") => "logits",
            3 => "last_hidden_state",
            4 when dims[2] == 1 && dims[3] == 1 => "embedding",
            4 when Has(n, "latent") => "latents",
            4 when Has(n, "recon") => "reconstruction",
            4 when Has(n, "logit") || dims[1] is 1 or 3 => "logits",
            _ => null,
        };
    }

    /// <summary>A rank-2 output named as probabilities (<c>prob</c>, <c>softmax</c>): the classifier applies a softmax to logits.</summary>
    public static bool LooksLikeProbabilities(string name) => Has(name.ToLowerInvariant(), "prob", "softmax");

    public static bool Has(string lower, params string[] parts) => parts.Any(p => lower.Contains(p, StringComparison.Ordinal));
}
