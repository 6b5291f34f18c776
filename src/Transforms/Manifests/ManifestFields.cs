using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace MlNotes.Transforms.Manifests;

/// <summary>
/// The manifest's fields that MlNotes does not model: each is either descriptive prose for people (documented as informative in
/// docs/manifest.md) or refused, so that a field a user writes never changes nothing in silence.
/// </summary>
internal static class ManifestFields
{
    /// <summary>The manifest format this version reads.</summary>
    public const int FormatVersion = 1;

    // Per block: the keys these classes do not model, allowed because they only describe, or because a family checks them from
    // the manifest's text (the text encoder: tokenizer.special_token_ids against the vocab, continuation_prefix "##", pooling.token).
    private static readonly Dictionary<string, string[]> s_informative = new(StringComparer.Ordinal)
    {
        [""] = new[]
        {
            "architecture", "training", "metrics", "opset", "elbo", "reparameterization", "similarity", "postprocessing", "zero_shot",
            "train_templates", "log_logit_scale", "logit_scale_max", "quantization", "conditioning", "classifier",
            "noise", "score",
        },
        ["inputs"] = new[] { "dynamic_axes" },
        ["outputs"] = new[] { "dynamic_axes" },
        ["preprocessing"] = new[] { "formula" },
        ["tokenizer"] = new[] { "sequence", "special_token_ids", "continuation_prefix" },
        ["pooling"] = new[] { "description", "token" },
        ["likelihood"] = new[] { "probabilities", "nll" },
        ["output_image"] = new[] { "pixel" },
        ["held_out_class"] = Array.Empty<string>(),
    };

    /// <summary>Refuses a format version other than <see cref="FormatVersion"/> and any field that is neither read nor informative.</summary>
    /// <exception cref="NotSupportedException">The manifest has such a field, naming the manifest, the field and what is supported.</exception>
    public static void Check(ModelManifest manifest)
    {
        if (manifest.FormatVersion != FormatVersion)
        {
            throw new NotSupportedException(
                $"The model manifest {manifest.Source} has format_version {manifest.FormatVersion}: this version of MlNotes reads format_version {FormatVersion}.");
        }

        CheckBlock(manifest, "", manifest.Other);
        foreach (var tensor in manifest.Inputs)
        {
            CheckBlock(manifest, "inputs", tensor.Other);
        }

        foreach (var tensor in manifest.Outputs)
        {
            CheckBlock(manifest, "outputs", tensor.Other);
        }

        CheckBlock(manifest, "preprocessing", manifest.Preprocessing?.Other);
        CheckBlock(manifest, "tokenizer", manifest.Tokenizer?.Other);
        CheckBlock(manifest, "pooling", manifest.Pooling?.Other);
        CheckBlock(manifest, "likelihood", manifest.Likelihood?.Other);
        CheckBlock(manifest, "held_out_class", manifest.HeldOutClass?.Other);
        CheckBlock(manifest, "output_image", manifest.OutputImage?.Other);
        if (manifest.Preprocessing is { } preprocessing)
        {
            CheckPreprocessing(manifest, preprocessing);
        }

        if (manifest.Likelihood?.DataRange is { } range && !(range.Length == 2 && range[0] == 0 && range[1] == 1))
        {
            throw Unsupported(manifest, "likelihood.data_range", $"[{string.Join(", ", range)}]", "[0, 1]: the Bernoulli likelihood is over pixels scaled to [0, 1]");
        }

        CheckCodebook(manifest);
        if (manifest.NotDecided?.FirstOrDefault(string.IsNullOrWhiteSpace) is { } empty || manifest.NotDecided?.Contains(null) == true)
        {
            throw Unsupported(manifest, "not_decided", "an empty entry", "field paths such as preprocessing.mean");
        }

        if (manifest.OutputImage is { Layout: { } layout } && !string.Equals(layout, "CHW", StringComparison.OrdinalIgnoreCase))
        {
            throw Unsupported(manifest, "output_image.layout", layout, "CHW");
        }
    }

    /// <summary>
    /// Refuses a manifest written for another kind of graph (its <c>family</c>): a VAE decoder's manifest given to an image
    /// classifier, say. A manifest without a family makes no claim and is checked by its tensors alone.
    /// </summary>
    /// <param name="manifest">The manifest, or null when there is none.</param>
    /// <param name="component">The catalog method reading it, for the message.</param>
    /// <param name="families">The families that component reads.</param>
    public static void CheckFamily(ModelManifest? manifest, string component, params string[] families)
    {
        if (manifest?.Family is { } family && !families.Contains(family, StringComparer.Ordinal))
        {
            throw Unsupported(manifest, "family", family, $"{string.Join(", ", families)} for {component}");
        }

        // The components that take undecided fields from their Options check not_decided when they resolve them; the others here.
        if (!s_decidedByOptions.Contains(component, StringComparer.Ordinal))
        {
            CheckDecided(manifest, component);
        }
    }

    // The components whose resolvers call CheckDecided with their options (ImageInput.ResolvePreprocessing, TextEncoderResolver).
    private static readonly string[] s_decidedByOptions = { "ClassifyImageOnnx", "EncodeClipImage", "EncodeTextOnnx" };

    /// <summary>
    /// Refuses a manifest whose <c>not_decided</c> lists a field that neither the manifest sets nor the component's options do: the
    /// writer (MlNotes.Inspect) could not tell it from the graph, and a default would give wrong numbers without an error.
    /// </summary>
    /// <param name="manifest">The manifest, or null.</param>
    /// <param name="component">The catalog method reading it, for the message.</param>
    /// <param name="options">Per field it can take from its options: the option's name and whether it is set.</param>
    /// <exception cref="NotSupportedException">A listed field is still not decided, naming the manifest, the field and the option.</exception>
    public static void CheckDecided(ModelManifest? manifest, string component, params (string Field, string Option, bool Set)[] options)
    {
        if (manifest?.NotDecided is not { Length: > 0 } fields)
        {
            return;
        }

        using var json = System.Text.Json.JsonDocument.Parse(manifest.Json);
        foreach (string field in fields)
        {
            if (IsSet(json.RootElement, field))
            {
                continue;
            }

            var option = options.FirstOrDefault(o => o.Field == field);
            if (option.Set)
            {
                continue;
            }

            string how = option.Option != null
                ? $"set it in the manifest (and remove it from not_decided), or set {option.Option} in {component}'s Options"
                : $"set it in the manifest and remove it from not_decided ({component} takes it from no option)";
            throw new NotSupportedException(
                $"The model manifest {manifest.Source} leaves '{field}' not decided (not_decided: {string.Join(", ", fields)}): its writer could not tell it from the graph: {how}.");
        }
    }

    // Whether the manifest's text sets the field (a dotted path) to something other than null.
    private static bool IsSet(JsonElement root, string path)
    {
        var element = root;
        foreach (string part in path.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element))
            {
                return false;
            }
        }

        return element.ValueKind != JsonValueKind.Null;
    }

    /// <summary>A field whose value MlNotes cannot honour.</summary>
    public static NotSupportedException Unsupported(ModelManifest manifest, string field, string value, string supported)
        => Unsupported(manifest.Source, field, value, supported);

    /// <summary>A field whose value MlNotes cannot honour, for a manifest named by <paramref name="source"/>.</summary>
    public static NotSupportedException Unsupported(string source, string field, string value, string supported)
        => new($"The model manifest {source} has {field} '{value}', which MlNotes does not support (supported: {supported}).");

    // A VQ-VAE codebook must be codebook_size rows of code_dim finite values: a wrong one would quantize to codes the decoder never saw.
    private static void CheckCodebook(ModelManifest manifest)
    {
        if (manifest.Codebook is not { } book)
        {
            return;
        }

        int size = manifest.CodebookSize ?? book.Length, dim = manifest.CodeDim ?? (book.Length > 0 ? book[0]?.Length ?? 0 : 0);
        for (int k = 0; k < book.Length; k++)
        {
            if (book[k] is not { } row || row.Length != dim || !Array.TrueForAll(row, float.IsFinite))
            {
                ThrowHelper.InvalidOperation($"The model manifest {manifest.Source} has codebook row {k} of {book[k]?.Length ?? 0} values where code_dim is {dim} (all finite).");
            }
        }

        if (book.Length != size || size == 0)
        {
            ThrowHelper.InvalidOperation($"The model manifest {manifest.Source} has a codebook of {book.Length} rows where codebook_size is {size}.");
        }
    }

    private static void CheckPreprocessing(ModelManifest manifest, ImagePreprocessingSpec spec)
    {
        _ = Vision.ImagePreprocessingSettings.ParseResize(spec.Resize, manifest.Source);
        if (spec.Crop != null && !(Is(spec.Crop, "none") || Is(spec.Crop, "center")))
        {
            throw Unsupported(manifest, "preprocessing.crop", spec.Crop, "none, center");
        }

        _ = Vision.ImagePreprocessingSettings.ParseInterpolation(spec.Interpolation, manifest.Source);
        _ = Vision.ImagePreprocessingSettings.ParseLayout(spec.Layout, manifest.Source);
        if (spec.Range != null)
        {
            _ = Vision.ImagePreprocessingSettings.ParseRange(spec.Range, manifest.Source);
            if (spec.Scale != null || spec.Offset != null)
            {
                throw Unsupported(manifest, "preprocessing.range", spec.Range, "a range, or a scale and an offset, not both");
            }
        }

        int channels = spec.Channels == 0 ? 3 : spec.Channels;
        bool colorFits = channels switch
        {
            1 => Is(spec.Color, "grey") || Is(spec.Color, "gray"),
            3 => Is(spec.Color, "rgb") || Is(spec.Color, "bgr"),
            _ => false,
        };
        if (spec.Color != null && !colorFits)
        {
            throw Unsupported(manifest, "preprocessing.color", spec.Color, $"{(channels == 1 ? "grey" : "rgb, bgr")} for {channels} channel(s)");
        }

        static bool Is(string? value, string expected) => string.Equals(value, expected, StringComparison.OrdinalIgnoreCase);
    }

    private static void CheckBlock(ModelManifest manifest, string block, Dictionary<string, JsonElement>? other)
    {
        if (other == null || other.Count == 0)
        {
            return;
        }

        var informative = s_informative[block];
        foreach (string key in other.Keys)
        {
            if (!informative.Contains(key, StringComparer.Ordinal))
            {
                string field = block.Length == 0 ? key : $"{block}.{key}";
                throw new NotSupportedException(
                    $"The model manifest {manifest.Source} has the field '{field}', which MlNotes does not read: remove it or describe it in a field " +
                    $"MlNotes reads (docs/manifest.md lists them; informative fields here: {(informative.Length == 0 ? "none" : string.Join(", ", informative))}).");
            }
        }
    }
}
