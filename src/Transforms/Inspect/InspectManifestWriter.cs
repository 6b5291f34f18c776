using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Text;

namespace MlNotes.Transforms.Inspect;

/// <summary>
/// The starting manifest of an inspected graph, in MlNotes' manifest format (docs/manifest.md): only fields the graph or its folder
/// decide, and <c>not_decided</c> listing the fields it does not, which the reading transform refuses until each is set.
/// </summary>
internal static class InspectManifestWriter
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    public static string Write(OnnxModelReport r, string manifestFile)
    {
        if (r.NoManifestReason != null)
        {
            throw new NotSupportedException($"No manifest is written for the ONNX model '{r.ModelFile}' ({r.Family}): {r.NoManifestReason}.");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestFile)) ?? ".";
        string Relative(string file) => Path.GetRelativePath(folder, Path.GetFullPath(file)).Replace('\\', '/');
        var m = new JsonObject
        {
            ["format_version"] = ManifestFields.FormatVersion,
            ["name"] = Path.GetFileNameWithoutExtension(r.ModelFile),
        };
        if (r.ManifestFamily != null)
        {
            m["family"] = r.ManifestFamily;
        }

        m["model_file"] = Relative(r.ModelFile);
        m["inputs"] = Tensors(r.Inputs);
        m["outputs"] = Tensors(r.Outputs);
        var roles = new JsonObject();
        foreach (var t in r.Inputs.Concat(r.Outputs).Where(t => t.Role != null && t.Role is not ("past_key_values" or "present_key_values")))
        {
            roles[t.Name] = t.Role;
        }

        m["roles"] = roles;
        switch (r.Family)
        {
            case OnnxModelFamily.ImageClassifier or OnnxModelFamily.ImageEncoder or OnnxModelFamily.ClipImage or OnnxModelFamily.VaeEncoder:
                Image(r, m);
                break;
            case OnnxModelFamily.TextEncoder or OnnxModelFamily.ClipText:
                Text(r, m, Relative);
                break;
            case OnnxModelFamily.VaeDecoder:
                VaeDecoder(r, m);
                break;
            case OnnxModelFamily.VqVaeEncoder or OnnxModelFamily.VqVaeDecoder:
                VqVae(r, m);
                break;
        }

        var notDecided = r.NotDecidedItems.Where(n => n.Field != null).Select(n => (JsonNode?)JsonValue.Create(n.Field)).ToArray();
        if (notDecided.Length > 0)
        {
            m["not_decided"] = new JsonArray(notDecided);
        }

        return m.ToJsonString(s_indented);
    }

    private static JsonArray Tensors(System.Collections.Generic.IReadOnlyList<OnnxTensorReport> tensors)
        => new(tensors.Select(t =>
        {
            var axes = new JsonObject();
            for (int i = 0; i < t.Dimensions.Count; i++)
            {
                if (t.Dimensions[i] <= 0)
                {
                    axes[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = t.SymbolicDimensions[i].Length > 0 ? t.SymbolicDimensions[i] : "dynamic";
                }
            }

            var o = new JsonObject { ["name"] = t.Name, ["dtype"] = t.ElementType, ["shape"] = new JsonArray(t.Dimensions.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()) };
            if (axes.Count > 0)
            {
                o["dynamic_axes"] = axes;
            }

            return (JsonNode?)o;
        }).ToArray());

    private static void Image(OnnxModelReport r, JsonObject m)
    {
        var (tensor, layout, c, h, w) = InspectDecisions.ImageShape(r);
        if (tensor == null)
        {
            return;
        }

        var p = new JsonObject();
        if (w > 0)
        {
            p["width"] = w;
        }

        if (h > 0)
        {
            p["height"] = h;
        }

        if (c > 0)
        {
            p["channels"] = c;
        }

        p["layout"] = layout;
        if (c == 1)
        {
            p["color"] = "grey";
        }

        if (r.Family == OnnxModelFamily.VaeEncoder)
        {
            // The only preprocessing MlNotes' VAE reads (it refuses the rest): [0, 1] pixels, no normalization.
            p["resize"] = "none";
            p["scale"] = 1.0 / 255;
            p["mean"] = new JsonArray(Enumerable.Repeat(0.0, Math.Max(c, 1)).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            p["std"] = new JsonArray(Enumerable.Repeat(1.0, Math.Max(c, 1)).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            if (r.Outputs.FirstOrDefault(o => o.Role == "mean") is { } mean && mean.Dimensions[^1] > 0)
            {
                m["latent_size"] = mean.Dimensions[^1];
            }
        }

        m["preprocessing"] = p;
        if (r.Outputs.FirstOrDefault(o => o.Role == "embedding") is { } embedding)
        {
            int size = embedding.Dimensions.Count == 3 ? embedding.Dimensions[2] : embedding.Dimensions[1];
            if (size > 0)
            {
                m["embedding_size"] = size;
            }
        }
    }

    private static void Text(OnnxModelReport r, JsonObject m, Func<string, string> relative)
    {
        string? pooled = InspectDecisions.Role(r, false, "pooled") ?? InspectDecisions.Role(r, false, "embedding");
        string? hidden = InspectDecisions.Role(r, false, "last_hidden_state");
        var size = r.Outputs.FirstOrDefault(o => o.Name == (pooled ?? hidden))?.Dimensions[^1];
        if (size > 0)
        {
            m["embedding_size"] = size;
        }

        if (r.Folder is { } folder)
        {
            var t = new JsonObject
            {
                ["kind"] = folder.Kind switch { TextTokenizerKind.SentencePiece => "sentencepiece", TextTokenizerKind.ByteLevelBpe => "byte-level-bpe", _ => "bert-wordpiece" },
                ["vocab_file"] = relative(folder.VocabFile),
            };
            if (folder.MergesFile != null)
            {
                t["merges_file"] = relative(folder.MergesFile);
            }

            if (folder.LowerCase is bool lower)
            {
                t["lower_case"] = lower;
            }

            if (folder.MaxLength is int max)
            {
                t["max_length"] = max;
            }

            if (folder.Kind == TextTokenizerKind.SentencePiece && folder.IdOffset != 0)
            {
                t["id_offset"] = folder.IdOffset;
            }

            if (folder.Kind == TextTokenizerKind.ByteLevelBpe && folder.AddPrefixSpace)
            {
                t["add_prefix_space"] = true;
            }

            var special = new JsonObject();
            foreach (var (key, token) in folder.Special)
            {
                special[key] = token;
            }

            t["special_tokens"] = special;
            m["tokenizer"] = t;
        }

        if (pooled != null && hidden != null)
        {
            m["pooling"] = new JsonObject { ["output"] = pooled };
        }
        else if (pooled == null && r.Folder?.Pooling is { } pooling)
        {
            m["pooling"] = new JsonObject
            {
                ["kind"] = pooling switch
                {
                    TextPooling.Cls => "cls",
                    TextPooling.Max => "masked-max",
                    TextPooling.MeanSqrtLength => "mean-sqrt-len",
                    TextPooling.EndOfText => "end-of-text",
                    _ => "masked-mean",
                },
            };
        }
    }

    private static void VaeDecoder(OnnxModelReport r, JsonObject m)
    {
        var z = r.Inputs.FirstOrDefault(t => t.Role == "z");
        var logits = r.Outputs.FirstOrDefault(t => t.Role == "logits");
        if (z?.Dimensions[^1] > 0)
        {
            m["latent_size"] = z.Dimensions[^1];
        }

        if (logits is { Dimensions.Count: 4 } && logits.Dimensions.Skip(1).All(d => d > 0))
        {
            m["output_image"] = new JsonObject { ["width"] = logits.Dimensions[3], ["height"] = logits.Dimensions[2], ["channels"] = logits.Dimensions[1], ["layout"] = "CHW" };
        }

        m["likelihood"] = new JsonObject
        {
            ["kind"] = "bernoulli",
            ["decoder_output"] = logits?.Name,
            ["output_is"] = "logits",
            ["data_range"] = new JsonArray(0.0, 1.0),
        };
    }

    private static void VqVae(OnnxModelReport r, JsonObject m)
    {
        // The encoder's latents and the decoder's codes are channels last: [batch, height, width, code_dim].
        var grid = r.Family == OnnxModelFamily.VqVaeEncoder ? r.Outputs.FirstOrDefault(t => t.Role == "latents") : r.Inputs.FirstOrDefault(t => t.Role == "codes");
        if (grid is { Dimensions.Count: 4 } && grid.Dimensions.Skip(1).All(d => d > 0))
        {
            m["grid"] = new JsonArray(grid.Dimensions[1], grid.Dimensions[2]);
            m["code_dim"] = grid.Dimensions[3];
        }

        if (r.Family == OnnxModelFamily.VqVaeEncoder)
        {
            Image(r, m);
            m["preprocessing"]!["resize"] = "none";
            m["preprocessing"]!["scale"] = 1.0 / 255;
        }
    }
}
