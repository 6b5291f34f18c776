using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Text;

namespace MlNotes.Transforms.Inspect;

/// <summary>
/// Reads an ONNX graph's inputs, outputs and metadata (ONNX Runtime's session metadata, the model header for the opsets), guesses
/// the tensors' roles and the family, and says what it decided from the graph and what it could not (<see cref="InspectDecisions"/>).
/// </summary>
internal static class OnnxModelInspector
{
    public static OnnxModelReport Inspect(string path, OnnxModelFamily? family)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (modelFile, folder, folderNote) = Locate(path);
        byte[] bytes = OnnxSessionFactory.ReadModelFile(modelFile);
        string name = $"'{modelFile}'";
        List<OnnxTensorReport> inputs, outputs;
        ModelMetadata metadata;
        using (var session = Open(modelFile, name))
        {
            inputs = Tensors(session.InputMetadata, isInput: true);
            outputs = Tensors(session.OutputMetadata, isInput: false);
            metadata = session.ModelMetadata;
        }

        var header = OnnxGraphHeader.Read(bytes, name);
        var (guessed, reason) = Guess(inputs, outputs);
        var chosen = family ?? guessed;
        if (family is { } given && !Enum.IsDefined(given))
        {
            ThrowHelper.BadOption(nameof(family), $"Family {(int)given} is not an OnnxModelFamily value (supported: {string.Join(", ", Enum.GetNames<OnnxModelFamily>())}).");
        }

        if (family != null)
        {
            reason = family == guessed ? $"given, and guessed too ({reason})" : $"given (the guess was {guessed}: {reason})";
        }

        (inputs, outputs) = ForFamily(chosen, inputs, outputs);
        var report = new OnnxModelReport(modelFile, Directory.Exists(path) ? path : null, chosen, reason, inputs, outputs, header, metadata, folder);
        InspectDecisions.Decide(report, folderNote);
        return report;
    }

    // A folder: its model.onnx (or onnx/model.onnx, or its one .onnx file) and, where it has them, its tokenizer files.
    private static (string ModelFile, TextModelFolder? Folder, string? Note) Locate(string path)
    {
        if (!Directory.Exists(path))
        {
            return (path, null, null);
        }

        string? onnx = new[] { Path.Combine(path, "model.onnx"), Path.Combine(path, "onnx", "model.onnx") }.FirstOrDefault(File.Exists)
            ?? (new[] { path, Path.Combine(path, "onnx") }.Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "*.onnx")).ToArray() is { Length: 1 } one ? one[0] : null);
        if (onnx == null)
        {
            throw new FileNotFoundException($"The model folder '{path}' has no model.onnx or onnx/model.onnx (nor one .onnx file).", Path.Combine(path, "model.onnx"));
        }

        try
        {
            return (onnx, TextModelFolder.Read(path), null);
        }
        catch (FileNotFoundException e)
        {
            return (onnx, null, e.Message);
        }
    }

    // From the path, so that a large graph's external data files (beside it) are found.
    private static InferenceSession Open(string modelFile, string name)
    {
        // Inspection reads metadata only: no graph optimization, one thread.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        try
        {
            return new InferenceSession(modelFile, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"The file {name} is not an ONNX model ONNX Runtime can load: {e.Message}", e);
        }
    }

    private static List<OnnxTensorReport> Tensors(IReadOnlyDictionary<string, NodeMetadata> metadata, bool isInput)
        => metadata.Select(m =>
        {
            string type = m.Value.IsTensor ? TypeName(m.Value.ElementDataType) : m.Value.OnnxValueType.ToString().ToLowerInvariant();
            int[] dims = m.Value.IsTensor ? m.Value.Dimensions.Select(d => d > 0 ? d : -1).ToArray() : Array.Empty<int>();
            string[] symbolic = m.Value.IsTensor ? m.Value.SymbolicDimensions.Select(s => s ?? "").ToArray() : Array.Empty<string>();
            string? role = m.Value.IsTensor ? (isInput ? TensorRoles.Input(m.Key, type, dims) : TensorRoles.Output(m.Key, type, dims)) : null;
            return new OnnxTensorReport(m.Key, type, dims, symbolic, role);
        }).ToList();

    internal static string TypeName(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType type) => type switch
    {
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float => "float32",
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Double => "float64",
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16 => "float16",
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.BFloat16 => "bfloat16",
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.UInt8 => "uint8",
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int8 => "int8",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static bool Any(List<OnnxTensorReport> tensors, string role) => tensors.Any(t => t.Role == role);

    /// <summary>The family the tensors' roles point to, and why.</summary>
    internal static (OnnxModelFamily, string) Guess(List<OnnxTensorReport> inputs, List<OnnxTensorReport> outputs)
    {
        bool image = Any(inputs, "image"), ids = Any(inputs, "input_ids");
        if (Any(inputs, "past_key_values") || Any(outputs, "present_key_values"))
        {
            return Any(inputs, "encoder_hidden_states")
                ? (OnnxModelFamily.Seq2SeqDecoder, "past key/value inputs and encoder_hidden_states: one decoder step of an encoder-decoder")
                : Any(inputs, "cross_key_values")
                ? (OnnxModelFamily.Seq2SeqDecoder, "past key/value inputs and the encoder's cross-attention keys and values: one decoder step of an encoder-decoder")
                : (OnnxModelFamily.DecoderOnlyLanguageModel, "past key/value inputs without encoder states: a decoder-only language model");
        }

        if (image && ids)
        {
            return (OnnxModelFamily.ClipDual, "an image and token ids in: both towers of a CLIP-like model in one graph");
        }

        if (image)
        {
            return Any(outputs, "mean") && Any(outputs, "logvar") ? (OnnxModelFamily.VaeEncoder, "an image in, mean and logvar out")
                : Any(outputs, "latents") ? (OnnxModelFamily.VqVaeEncoder, "an image in, a channels-last grid of latents out")
                : outputs.Any(o => o.Name.Contains("image_embed", StringComparison.OrdinalIgnoreCase)) ? (OnnxModelFamily.ClipImage, "an image in, image_embeds out (CLIP's naming)")
                : outputs.Any(o => o.Role == "logits" && o.Dimensions.Count == 2) || (outputs.Count(o => o.Dimensions.Count == 2) == 1 && !Any(outputs, "embedding"))
                    ? (OnnxModelFamily.ImageClassifier, "an image in, one [batch, classes] output")
                : Any(outputs, "embedding") || Any(outputs, "last_hidden_state") ? (OnnxModelFamily.ImageEncoder, "an image in, an embedding or token states out")
                : (OnnxModelFamily.Unknown, "an image in, but no output a family reads");
        }

        if (ids)
        {
            return Any(outputs, "encoder_hidden_states") ? (OnnxModelFamily.Seq2SeqEncoder, "token ids in, encoder_hidden_states out: the encoder of an encoder-decoder")
                : outputs.Any(o => o.Role == "logits" && o.Dimensions.Count == 3) && !Any(outputs, "last_hidden_state")
                    ? (OnnxModelFamily.DecoderOnlyLanguageModel, "token ids in, [batch, sequence, vocabulary] logits out")
                : outputs.Any(o => o.Name.Contains("text_embed", StringComparison.OrdinalIgnoreCase)) ? (OnnxModelFamily.ClipText, "token ids in, text_embeds out (CLIP's naming)")
                : Any(outputs, "last_hidden_state") || Any(outputs, "embedding") ? (OnnxModelFamily.TextEncoder, "token ids in, token states or a pooled vector out")
                : (OnnxModelFamily.Unknown, "token ids in, but no output a family reads");
        }

        if (Any(inputs, "z") && Any(outputs, "logits") && outputs.Any(o => o.Dimensions.Count == 4))
        {
            return (OnnxModelFamily.VaeDecoder, "a latent vector z in, an image of logits out");
        }

        if (Any(inputs, "codes") && outputs.Any(o => o.Dimensions.Count == 4))
        {
            return (OnnxModelFamily.VqVaeDecoder, "a channels-last grid of codes in, an image out");
        }

        return (OnnxModelFamily.Unknown, "no input is an image (rank 4, 1 or 3 channels) or token ids, nor a latent of a VAE");
    }

    // Roles a family names differently: an image graph's token states are its embedding (pooled by TokenPooling), a text graph's
    // pooled vector is "pooled" beside token states, a classifier's one unnamed [batch, classes] output its logits.
    private static (List<OnnxTensorReport>, List<OnnxTensorReport>) ForFamily(OnnxModelFamily family, List<OnnxTensorReport> inputs, List<OnnxTensorReport> outputs)
    {
        bool imageGraph = family is OnnxModelFamily.ImageClassifier or OnnxModelFamily.ImageEncoder or OnnxModelFamily.ClipImage;
        bool textGraph = family is OnnxModelFamily.TextEncoder or OnnxModelFamily.ClipText;
        bool hasEmbedding = Any(outputs, "embedding");
        bool hasLogits = outputs.Any(o => o.Role == "logits");
        string? Role(OnnxTensorReport t) => t.Role switch
        {
            "last_hidden_state" when imageGraph && !hasEmbedding && t.Dimensions[2] > 0 => "embedding",
            "last_hidden_state" when imageGraph => null,
            "embedding" when textGraph && Any(outputs, "last_hidden_state") => "pooled",
            null when family == OnnxModelFamily.ImageClassifier && !hasLogits && t.Dimensions.Count == 2 => "logits",
            var r => r,
        };
        return (inputs, outputs.Select(t => Role(t) == t.Role ? t : new OnnxTensorReport(t.Name, t.ElementType, t.Dimensions.ToArray(), t.SymbolicDimensions.ToArray(), Role(t))).ToList());
    }
}
