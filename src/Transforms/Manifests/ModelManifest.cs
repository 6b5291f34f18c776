using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Manifests;

/// <summary>
/// The JSON sidecar that describes an exported graph (models-onnx/README.md documents the format): tensors, roles,
/// preprocessing, labels, tokenizer, pooling. Wrappers read it so users need not repeat it, validate the graph
/// against it, and store its text in the model zip.
/// </summary>
internal sealed class ModelManifest
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public int FormatVersion { get; set; } = 1;

    public string? Name { get; set; }

    public string? Family { get; set; }

    public string? ModelFile { get; set; }

    public List<ManifestTensor> Inputs { get; set; } = new();

    public List<ManifestTensor> Outputs { get; set; } = new();

    /// <summary>Tensor name to the role it plays (image, logits, embedding, input_ids, ...), as models-onnx/README.md documents.</summary>
    public Dictionary<string, string> Roles { get; set; } = new();

    public ImagePreprocessingSpec? Preprocessing { get; set; }

    public string[]? Labels { get; set; }

    public int? EmbeddingSize { get; set; }

    public TokenizerSpec? Tokenizer { get; set; }

    public PoolingSpec? Pooling { get; set; }

    /// <summary>CLIP: the learned logit scale (1 / temperature) that multiplies cosine similarities.</summary>
    public double? LogitScale { get; set; }

    /// <summary>CLIP: the words that name each label in prompts (same order as <see cref="Labels"/>).</summary>
    public string[]? ClassNames { get; set; }

    /// <summary>CLIP: prompt templates for zero-shot classification, each with one <c>{}</c> for the class name.</summary>
    public string[]? ZeroShotTemplates { get; set; }

    /// <summary>CLIP image tower: the text tower's manifest, relative to this one's folder.</summary>
    public string? TextTower { get; set; }

    /// <summary>CLIP text tower: the image tower's manifest, relative to this one's folder.</summary>
    public string? ImageTower { get; set; }

    /// <summary>VAE: the size of the latent vector.</summary>
    public int? LatentSize { get; set; }

    /// <summary>VAE: the decoder's likelihood p(x|z).</summary>
    public LikelihoodSpec? Likelihood { get; set; }

    /// <summary>VAE: the class left out of training (for anomaly detection).</summary>
    public HeldOutClassSpec? HeldOutClass { get; set; }

    /// <summary>VAE encoder: the decoder's manifest, relative to this one's folder.</summary>
    public string? Decoder { get; set; }

    /// <summary>VAE decoder: the encoder's manifest, relative to this one's folder.</summary>
    public string? Encoder { get; set; }

    /// <summary>VAE decoder: the image its output is (size, channels, layout).</summary>
    public OutputImageSpec? OutputImage { get; set; }

    /// <summary>VQ-VAE: the latent grid (height, width): one code per position.</summary>
    public int[]? Grid { get; set; }

    /// <summary>VQ-VAE: the size of each code vector (the latents' last axis).</summary>
    public int? CodeDim { get; set; }

    /// <summary>VQ-VAE: the number of codes.</summary>
    public int? CodebookSize { get; set; }

    /// <summary>VQ-VAE: the codebook, <see cref="CodebookSize"/> rows of <see cref="CodeDim"/> values.</summary>
    public float[][]? Codebook { get; set; }

    /// <summary>
    /// Fields the writer of the manifest (MlNotes.Inspect) could not decide from the graph, by path (<c>preprocessing.mean</c>): each
    /// must be set in the manifest or in the reading transform's Options, else the manifest is refused (<see cref="ManifestFields.CheckDecided"/>).
    /// </summary>
    public string[]? NotDecided { get; set; }

    /// <summary>GAN generator: the size of a noise vector (the graph's noise input [batch, noise_size]).</summary>
    public int? NoiseSize { get; set; }
    /// <summary>CVAE: the training images per class (the generative classifier's priors), one per label.</summary>
    public int[]? ClassCounts { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }

    /// <summary>The text the manifest was read from, stored as is in a model zip.</summary>
    [JsonIgnore]
    public string Json { get; private set; } = "{}";

    /// <summary>Where the manifest came from, for messages.</summary>
    [JsonIgnore]
    public string Source { get; private set; } = "";

    public static ModelManifest Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The model manifest '{path}' does not exist.", path);
        }

        var manifest = Parse(File.ReadAllText(path), $"'{path}'", corruptIsFormatError: false);
        manifest.Folder = Path.GetDirectoryName(Path.GetFullPath(path));
        return manifest;
    }

    /// <summary>The folder of a manifest read from a file (files it names are relative to it); null otherwise.</summary>
    [JsonIgnore]
    public string? Folder { get; private set; }

    /// <summary>The manifest beside a model file (same name, .json), or null when there is none.</summary>
    public static ModelManifest? Beside(string? modelFile)
    {
        if (modelFile == null)
        {
            return null;
        }

        string candidate = Path.ChangeExtension(modelFile, ".json");
        return File.Exists(candidate) ? Load(candidate) : null;
    }

    public static ModelManifest Parse(string json, string source, bool corruptIsFormatError)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, s_json);
        }
        catch (JsonException e)
        {
            string message = $"The model manifest {source} is not valid JSON for a manifest: {e.Message}";
            if (corruptIsFormatError)
            {
                throw new FormatException(message, e);
            }

            throw new InvalidOperationException(message, e);
        }

        if (manifest == null)
        {
            return ThrowHelper.InvalidOperation<ModelManifest>($"The model manifest {source} is empty.");
        }

        manifest.Json = json;
        manifest.Source = source;
        ManifestFields.Check(manifest);
        return manifest;
    }

    /// <summary>The tensor playing <paramref name="role"/>, or null: the key of <see cref="Roles"/> whose value is the role.</summary>
    public string? Role(string role)
    {
        foreach (var (tensor, tensorRole) in Roles)
        {
            if (string.Equals(tensorRole, role, StringComparison.Ordinal))
            {
                return tensor;
            }
        }

        return null;
    }

    /// <summary>Checks that every tensor the manifest describes exists in the graph with its element type and fixed dimensions.</summary>
    public void Validate(OnnxModel model)
    {
        Check(Inputs, model.InputMetadata, "input");
        Check(Outputs, model.OutputMetadata, "output");

        void Check(List<ManifestTensor> tensors, IReadOnlyDictionary<string, Microsoft.ML.OnnxRuntime.NodeMetadata> graph, string role)
        {
            foreach (var tensor in tensors)
            {
                if (!graph.TryGetValue(tensor.Name, out var metadata))
                {
                    ThrowHelper.InvalidOperation(
                        $"The model manifest {Source} describes an {role} '{tensor.Name}' that the ONNX model {model.Name} does not have (its {role}s: {string.Join(", ", graph.Keys)}).");
                }

                string actualType = metadata.ElementDataType.ToString().ToLowerInvariant() switch
                {
                    "float" => "float32",
                    "double" => "float64",
                    var other => other,
                };
                if (tensor.Dtype != null && !string.Equals(tensor.Dtype, actualType, StringComparison.OrdinalIgnoreCase))
                {
                    ThrowHelper.InvalidOperation(
                        $"The model manifest {Source} says {role} '{tensor.Name}' is {tensor.Dtype}, but in the ONNX model {model.Name} it is {actualType}.");
                }

                if (tensor.Shape != null)
                {
                    int[] dims = metadata.Dimensions;
                    bool same = dims.Length == tensor.Shape.Length
                        && dims.Zip(tensor.Shape).All(p => p.First <= 0 || p.Second <= 0 || p.First == p.Second);
                    if (!same)
                    {
                        ThrowHelper.InvalidOperation(
                            $"The model manifest {Source} gives {role} '{tensor.Name}' the shape [{string.Join(", ", tensor.Shape)}], " +
                            $"but in the ONNX model {model.Name} it is [{string.Join(", ", dims)}].");
                    }
                }
            }
        }
    }
}

/// <summary>One tensor as a manifest describes it: -1 marks a dynamic axis.</summary>
internal sealed class ManifestTensor
{
    public string Name { get; set; } = "";

    public string? Dtype { get; set; }

    public long[]? Shape { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>The training transform of an image model, as the manifest's <c>preprocessing</c> block gives it.</summary>
internal sealed class ImagePreprocessingSpec
{
    public int Width { get; set; }

    public int Height { get; set; }

    public int Channels { get; set; }

    /// <summary>"none" (the image must already be Width x Height: others are resized exactly), "exact" (to Width x Height), "shortest" (shortest side to <see cref="ResizeSize"/>, then cropped).</summary>
    public string? Resize { get; set; }

    public int? ResizeSize { get; set; }

    /// <summary>"none" or "center".</summary>
    public string? Crop { get; set; }

    public string? Interpolation { get; set; }

    /// <summary>Multiplies the 8-bit pixel; null: 1/255 unless <see cref="Range"/> says otherwise.</summary>
    public double? Scale { get; set; }

    public float[]? Mean { get; set; }

    public float[]? Std { get; set; }

    /// <summary>"CHW" (NCHW) or "HWC" (NHWC).</summary>
    public string? Layout { get; set; }

    /// <summary>"grey" (1 channel), "rgb" or "bgr" (3 channels): checked against <see cref="Channels"/>.</summary>
    public string? Color { get; set; }

    /// <summary>Added after <see cref="Scale"/>; with <see cref="Range"/> set, neither may be.</summary>
    public double? Offset { get; set; }

    /// <summary>"0-1", "0-255" or "-1..1": a scale and an offset by name.</summary>
    public string? Range { get; set; }

    /// <summary>A file (relative to the manifest) of C x H x W little-endian float32 values: the per-pixel mean, CHW in the graph's channel order.</summary>
    public string? MeanImage { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>The tokenizer of a text model, as the manifest's <c>tokenizer</c> block gives it.</summary>
internal sealed class TokenizerSpec
{
    /// <summary>"bert-wordpiece" (a BERT vocab.txt), "sentencepiece" (a .model), "byte-level-bpe" (vocab.json and merges.txt).</summary>
    public string? Kind { get; set; }

    /// <summary>Relative to the manifest's folder: vocab.txt, the SentencePiece .model, or the BPE vocab.json.</summary>
    public string? VocabFile { get; set; }

    /// <summary>Byte-level BPE: merges.txt, relative to the manifest's folder.</summary>
    public string? MergesFile { get; set; }

    /// <summary>Default: true for WordPiece, false for the others.</summary>
    public bool? LowerCase { get; set; }

    /// <summary>SentencePiece: added to every piece's id (fairseq's XLM-R exports: 1).</summary>
    public int? IdOffset { get; set; }

    /// <summary>Byte-level BPE: a space before the text (RoBERTa's add_prefix_space).</summary>
    public bool? AddPrefixSpace { get; set; }

    public bool? StripAccents { get; set; }

    public bool? TokenizeCjkChars { get; set; }

    public int? MaxLength { get; set; }

    public int? MaxCharsPerWord { get; set; }

    /// <summary>By key (unk, cls, sep, pad, mask); for SentencePiece and byte-level BPE a null cls or sep means none.</summary>
    public Dictionary<string, string?>? SpecialTokens { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>How token states become one vector, as the manifest's <c>pooling</c> block gives it.</summary>
internal sealed class PoolingSpec
{
    /// <summary>"cls", "masked-mean", "masked-max", "mean-sqrt-len", "end-of-text".</summary>
    public string? Kind { get; set; }

    /// <summary>A graph output that already holds the pooled vector, if any.</summary>
    public string? Output { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>A VAE decoder's likelihood, as the manifest's <c>likelihood</c> block gives it.</summary>
internal sealed class LikelihoodSpec
{
    /// <summary>"bernoulli": the decoder output is the logits of per-pixel Bernoulli probabilities.</summary>
    public string? Kind { get; set; }

    public string? DecoderOutput { get; set; }

    /// <summary>"logits" or "probabilities".</summary>
    public string? OutputIs { get; set; }

    /// <summary>The range of the pixels the likelihood is over: [0, 1], the only one supported.</summary>
    public double[]? DataRange { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>The class a VAE did not see in training, as the manifest's <c>held_out_class</c> block gives it.</summary>
internal sealed class HeldOutClassSpec
{
    public int Index { get; set; }

    public string? Name { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>The image a VAE decoder's output is, as the manifest's <c>output_image</c> block gives it.</summary>
internal sealed class OutputImageSpec
{
    public int Width { get; set; }

    public int Height { get; set; }

    public int Channels { get; set; }

    /// <summary>"CHW", the only layout MlNotes reads.</summary>
    public string? Layout { get; set; }

    /// <summary>Fields this class does not model: refused unless informative (<see cref="ManifestFields"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}
