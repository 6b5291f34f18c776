using System.Globalization;
using System.Linq;

namespace MlNotes.Transforms.Inspect;

/// <summary>
/// Per family: what the graph (and an exported folder) decides, and what it cannot: each undecided manifest field with the option
/// that sets it instead. The fields listed here go into the written manifest's <c>not_decided</c> (ManifestFields.CheckDecided).
/// </summary>
internal static class InspectDecisions
{
    public static void Decide(OnnxModelReport r, string? folderNote)
    {
        if (folderNote != null)
        {
            r.NotDecidedItems.Add((null, $"tokenizer: {folderNote}"));
        }

        switch (r.Family)
        {
            case OnnxModelFamily.ImageClassifier:
                Image(r, "image-classifier", "ClassifyImageOnnx");
                Labels(r, "ClassNames");
                break;
            case OnnxModelFamily.ImageEncoder:
                // EncodeClipImage reads image encoders; a manifest without family makes no claim to be CLIP's.
                Image(r, null, "EncodeClipImage");
                break;
            case OnnxModelFamily.ClipImage:
                Image(r, "clip-image", "EncodeClipImage");
                break;
            case OnnxModelFamily.TextEncoder:
                Text(r, "text-encoder", "EncodeTextOnnx");
                break;
            case OnnxModelFamily.ClipText:
                Text(r, "clip-text", "EncodeClipText");
                break;
            case OnnxModelFamily.VaeEncoder:
                Image(r, "vae-encoder", "EncodeVae", vae: true);
                r.NotDecidedItems.Add((null, "the pixel range and normalization: MlNotes' VAE reads [0, 1] pixels with mean 0 and std 1 only, and the manifest says so: check the encoder was trained on them"));
                break;
            case OnnxModelFamily.VaeDecoder:
                r.ManifestFamily = "vae-decoder";
                r.Reader = "DecodeVae, ScoreVae (with the encoder's manifest naming it as decoder)";
                r.NotDecidedItems.Add((null, $"the likelihood: MlNotes' VAE reads a Bernoulli over logits only, and the manifest says '{Role(r, false, "logits")}' holds logits: check it is not sigmoid probabilities"));
                break;
            case OnnxModelFamily.VqVaeEncoder:
            case OnnxModelFamily.VqVaeDecoder:
                r.ManifestFamily = r.Family == OnnxModelFamily.VqVaeEncoder ? "vqvae-encoder" : "vqvae-decoder";
                r.Reader = r.Family == OnnxModelFamily.VqVaeEncoder ? "EncodeVqVae" : "DecodeVqVae";
                if (r.Family == OnnxModelFamily.VqVaeEncoder)
                {
                    r.NotDecidedItems.Add((null, "the pixel range: the manifest says [0, 1] pixels with no normalization, as MlNotes' VQ-VAE encoder was trained: check yours was"));
                }

                r.NotDecidedItems.Add(("codebook", "codebook: the code vectors are not in the graph (the quantizer runs in C#): set codebook and codebook_size in the manifest from the trained model"));
                r.NotDecidedItems.Add(("codebook_size", "codebook_size: the number of codes, with the codebook"));
                break;
            case OnnxModelFamily.Seq2SeqEncoder:
            case OnnxModelFamily.Seq2SeqDecoder:
            case OnnxModelFamily.DecoderOnlyLanguageModel:
                int past = r.Inputs.Count(t => t.Role == "past_key_values"), present = r.Outputs.Count(t => t.Role == "present_key_values");
                r.DecidedItems.Add($"{past} past key/value input(s), {present} present output(s)");
                r.Reader = "GenerateSequenceOnnx (an encoder and a decoder graph with a generation manifest: docs/generation.md)";
                r.NoManifestReason = "GenerateSequenceOnnx reads one manifest for the encoder and the decoder together, with the vocabulary and the special tokens; this tool does not write it";
                break;
            case OnnxModelFamily.ClipDual:
                r.NoManifestReason = "MlNotes reads CLIP's towers as two graphs (EncodeClipImage, EncodeClipText): export the image and text towers separately";
                break;
            default:
                r.Reader = "ApplyOnnxModelBatched (no manifest)";
                r.NoManifestReason = "no MlNotes family reads this graph; ApplyOnnxModelBatched scores it by tensor name without a manifest";
                break;
        }
    }

    internal static string? Role(OnnxModelReport r, bool input, string role) => (input ? r.Inputs : r.Outputs).FirstOrDefault(t => t.Role == role)?.Name;

    /// <summary>The image input's layout and size as the graph gives them (0 where symbolic).</summary>
    internal static (OnnxTensorReport? Tensor, string? Layout, int Channels, int Height, int Width) ImageShape(OnnxModelReport r)
    {
        var t = r.Inputs.FirstOrDefault(i => i.Role == "image");
        if (t == null)
        {
            return (null, null, 0, 0, 0);
        }

        int[] d = t.Dimensions.Select(x => x > 0 ? x : 0).ToArray();
        string? layout = TensorRoles.ImageLayout(t.Dimensions.ToArray(), t.Name.ToLowerInvariant());
        return layout == "HWC" ? (t, layout, d[3], d[1], d[2]) : (t, layout, d[1], d[2], d[3]);
    }

    private static void Image(OnnxModelReport r, string? family, string reader, bool vae = false)
    {
        r.ManifestFamily = family;
        r.Reader = reader;
        var (t, layout, c, h, w) = ImageShape(r);
        if (t == null)
        {
            r.NotDecidedItems.Add((null, $"the image input: no input is an image (rank 4, 1 or 3 channels): name it with ImageTensorName in {reader}'s Options"));
            return;
        }

        r.DecidedItems.Add($"image input '{t.Name}', layout {(layout == "HWC" ? "NHWC (channels last: TensorFlow, tf2onnx, many ONNX-zoo graphs)" : "NCHW (channels first: PyTorch exports)")}, from its shape {t.ShapeText}");
        r.DecidedItems.Add(string.Create(CultureInfo.InvariantCulture, $"image size {(w > 0 ? w : "?")} x {(h > 0 ? h : "?")}, {(c > 0 ? c : "?")} channel(s){(c == 1 ? ": grey" : "")}"));
        if (w == 0)
        {
            r.NotDecidedItems.Add(("preprocessing.width", "preprocessing.width: the graph leaves the width symbolic: set width in the manifest or ImageWidth in Options"));
        }

        if (h == 0)
        {
            r.NotDecidedItems.Add(("preprocessing.height", "preprocessing.height: the graph leaves the height symbolic: set height in the manifest or ImageHeight in Options"));
        }

        if (c == 0)
        {
            r.NotDecidedItems.Add(("preprocessing.channels", "preprocessing.channels: the graph leaves the channels symbolic: set channels in the manifest or ImageChannels in Options"));
        }

        if (vae)
        {
            return;
        }

        if (c != 1)
        {
            r.NotDecidedItems.Add(("preprocessing.color", "preprocessing.color: the channel order, rgb (torchvision, timm) or bgr (Caffe, OpenCV, ML.NET's ResNet18): set color in the manifest or ChannelOrder in Options"));
        }

        r.NotDecidedItems.Add(("preprocessing.range", "preprocessing.range: the pixel range, 0-1 (torchvision's ToTensor), 0-255 (Caffe, many ONNX-zoo graphs) or -1..1 (TensorFlow's Inception): set range (or scale and offset) in the manifest or PixelRange (or Scale and Offset) in Options"));
        r.NotDecidedItems.Add(("preprocessing.mean", "preprocessing.mean: the per-channel mean (ImageNet's [0.485, 0.456, 0.406] for torchvision and timm, [103.939, 116.779, 123.68] BGR for Caffe, none for some): set mean (or mean_image) in the manifest or Mean (or MeanImage) in Options"));
        r.NotDecidedItems.Add(("preprocessing.std", "preprocessing.std: the per-channel std (ImageNet's [0.229, 0.224, 0.225] for torchvision and timm, 1 for Caffe): set std in the manifest or Std in Options"));
        r.NotDecidedItems.Add(("preprocessing.resize", "preprocessing.resize: exact (or none) to the input size, or shortest side then center crop (torchvision's Resize(256), CenterCrop(224)): set resize (and resize_size) in the manifest or Resize (and ResizeSize) in Options"));
        r.NotDecidedItems.Add(("preprocessing.interpolation", "preprocessing.interpolation: bilinear (torchvision), bicubic (timm, CLIP) or nearest: set interpolation in the manifest or Interpolation in Options"));
        var embedding = r.Outputs.FirstOrDefault(o => o.Role == "embedding");
        if (embedding != null)
        {
            r.DecidedItems.Add($"embedding output '{embedding.Name}' {embedding.ShapeText}{(embedding.Dimensions.Count == 4 ? ", flattened to [batch, size]" : "")}");
            if (embedding.Dimensions.Count == 3)
            {
                r.NotDecidedItems.Add(("pooling.kind", "pooling.kind: the token output is [batch, tokens, size]: cls (torchvision's ViT, timm's 'token'), patch-mean (timm's 'avg') or mean: set pooling.kind in the manifest or TokenPooling in Options"));
            }
        }

        foreach (var unused in r.Outputs.Where(o => o.Role == null && o.Dimensions.Count == 3))
        {
            r.DecidedItems.Add($"output '{unused.Name}' {unused.ShapeText} is not used as the embedding: its size is symbolic");
        }
    }

    private static void Labels(OnnxModelReport r, string option)
    {
        var logits = r.Outputs.FirstOrDefault(o => o.Role == "logits");
        if (logits == null)
        {
            return;
        }

        int classes = logits.Dimensions[^1];
        r.DecidedItems.Add(string.Create(CultureInfo.InvariantCulture, $"logits output '{logits.Name}' {logits.ShapeText}: {(classes > 0 ? classes : "?")} classes"));
        r.NotDecidedItems.Add((null, $"labels: the graph carries no class names: classes are named 0..{(classes > 0 ? classes - 1 : 'N')} until you set labels in the manifest or {option} in Options"));
        if (TensorRoles.LooksLikeProbabilities(logits.Name))
        {
            r.NotDecidedItems.Add((null, $"'{logits.Name}' is named as probabilities: the classifier applies a softmax to logits, so its Score is a softmax of probabilities (the argmax is unchanged); read '{logits.Name}' itself with LogitsColumnName"));
        }
    }

    private static void Text(OnnxModelReport r, string family, string reader)
    {
        r.ManifestFamily = family;
        r.Reader = reader;
        foreach (string role in new[] { "input_ids", "attention_mask", "token_type_ids" })
        {
            if (Role(r, true, role) is { } name)
            {
                r.DecidedItems.Add($"{role.Replace('_', ' ')}: input '{name}'");
            }
        }

        string? hidden = Role(r, false, "last_hidden_state"), pooled = Role(r, false, "pooled") ?? Role(r, false, "embedding");
        if (pooled != null)
        {
            r.DecidedItems.Add($"pooling: in the graph, output '{pooled}'");
        }

        var folder = r.Folder;
        if (folder != null)
        {
            r.DecidedItems.Add($"tokenizer: {folder.Kind}, {System.IO.Path.GetFileName(folder.VocabFile)}{(folder.MergesFile != null ? " + " + System.IO.Path.GetFileName(folder.MergesFile) : "")} (from the folder)");
            if (folder.LowerCase is bool lower)
            {
                r.DecidedItems.Add($"lower case: {(lower ? "true" : "false")} (from the folder)");
            }

            if (folder.MaxLength is int max)
            {
                r.DecidedItems.Add(string.Create(CultureInfo.InvariantCulture, $"max length: {max} (from the folder)"));
            }

            if (folder.Normalize)
            {
                r.NotDecidedItems.Add((null, "normalize: the folder's modules.json has a Normalize module, which no manifest field holds: give ModelFolder, or set Normalize in Options"));
            }
        }
        else
        {
            r.NotDecidedItems.Add(("tokenizer.vocab_file", "tokenizer.vocab_file: the vocabulary is not in the graph: set kind and vocab_file (and merges_file) in the manifest, or VocabFile (and Tokenizer, MergesFile) or ModelFolder in Options"));
            r.NotDecidedItems.Add(("tokenizer.lower_case", "tokenizer.lower_case: cased or uncased: set lower_case in the manifest or LowerCase in Options"));
            r.NotDecidedItems.Add((null, "tokenizer.max_length: the graph's position table bounds it; 512 unless set (max_length in the manifest, MaxLength in Options)"));
        }

        if (pooled == null && folder?.Pooling is { } folderPooling)
        {
            r.DecidedItems.Add($"pooling: {folderPooling} (from the folder's modules.json)");
        }
        else if (pooled == null && hidden != null)
        {
            r.NotDecidedItems.Add(("pooling.kind", "pooling.kind: how token states become one vector, masked-mean (sentence-transformers' usual), cls, masked-max, mean-sqrt-len or end-of-text: set pooling.kind in the manifest or Pooling in Options"));
        }

        if (Role(r, false, "logits") != null)
        {
            Labels(r, "ClassNames");
        }
    }
}
