using System.Linq;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>How the VAE family (VAE, CVAE, VQ-VAE) finds its tensors and reads an encoder's image input and preprocessing.</summary>
internal static partial class VaeGraphs
{
    /// <summary>
    /// The tensor the manifest's role names, else the conventional name, else the graph's only input or output; refused naming
    /// the graph's tensors when it has none of that name.
    /// </summary>
    public static string Tensor(OnnxModel model, string? fromManifest, string conventional, bool isInput)
    {
        var graph = isInput ? model.InputMetadata : model.OutputMetadata;
        string name = fromManifest ?? (graph.ContainsKey(conventional) ? conventional : graph.Count == 1 ? graph.Keys.Single() : conventional);
        if (!graph.ContainsKey(name))
        {
            string role = isInput ? "input" : "output";
            ThrowHelper.InvalidOperation($"The ONNX model {model.Name} has no {role} named '{name}' (its {role}s: {string.Join(", ", graph.Keys)}); name it in the manifest's roles.");
        }

        return name;
    }

    /// <summary>The latent size of a [batch, latent size] tensor; <paramref name="family"/> (VAE, CVAE) names the model in the error.</summary>
    public static int LatentDim(OnnxModel model, string tensor, bool isInput, string family)
    {
        int[] dims = (isInput ? model.InputMetadata : model.OutputMetadata)[tensor].Dimensions;
        return dims.Length == 2 && dims[1] > 0
            ? dims[1]
            : ThrowHelper.InvalidOperation<int>($"The ONNX tensor '{tensor}' of model {model.Name} has shape [{string.Join(", ", dims)}]: a {family} latent is [batch, latent size].");
    }

    /// <summary>
    /// A Gaussian encoder's image input, mean and log-variance outputs, latent size and preprocessing (the manifest's, else [0, 1]
    /// pixels of the input's size), each checked against the graph; <paramref name="family"/> (VAE, CVAE) names the model in errors.
    /// </summary>
    public static (string Image, string Mean, string LogVariance, int LatentSize, ImagePreprocessingSettings Preprocessing) ResolveEncoder(OnnxModel encoder, ModelManifest? manifest, string family)
    {
        string image = Tensor(encoder, manifest?.Role("image"), "image", isInput: true);
        string mean = Tensor(encoder, manifest?.Role("mean"), "mean", isInput: false);
        string logVariance = Tensor(encoder, manifest?.Role("logvar"), "logvar", isInput: false);
        int[] dims = encoder.InputMetadata[image].Dimensions;
        if (dims.Length != 4 || dims.Skip(1).Any(d => d <= 0))
        {
            ThrowHelper.InvalidOperation($"The ONNX input '{image}' of model {encoder.Name} has shape [{string.Join(", ", dims)}]: a {family} encoder takes images of a fixed size [batch, channels, height, width].");
        }

        int latentSize = LatentDim(encoder, mean, isInput: false, family);
        if (LatentDim(encoder, logVariance, isInput: false, family) != latentSize)
        {
            ThrowHelper.InvalidOperation($"The ONNX outputs '{mean}' and '{logVariance}' of model {encoder.Name} differ in size.");
        }

        var spec = manifest?.Preprocessing;
        var preprocessing = spec != null
            ? ImagePreprocessingSettings.FromManifest(spec, manifest!.Source)
            : new ImagePreprocessingSettings(dims[3], dims[2], dims[1], ResizeKind.None, 0, false, 1.0 / 255, new float[dims[1]], Enumerable.Repeat(1f, dims[1]).ToArray());
        preprocessing.Validate();
        if (preprocessing.HasV3Settings)
        {
            ThrowHelper.NotSupported<int>($"The model manifest {manifest!.Source} sets a preprocessing layout, color order, interpolation, offset or mean image, which the {family} encoder does not take (supported: CHW, RGB or grey, bilinear, offset 0, no mean image).");
        }

        if (preprocessing.Channels != dims[1] || preprocessing.Height != dims[2] || preprocessing.Width != dims[3])
        {
            ThrowHelper.InvalidOperation($"The model manifest {manifest!.Source} preprocesses to {preprocessing.Channels} x {preprocessing.Height} x {preprocessing.Width}, but the ONNX input '{image}' of model {encoder.Name} is [{string.Join(", ", dims)}].");
        }

        return (image, mean, logVariance, latentSize, preprocessing);
    }
}
