using System;
using System.Linq;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>How a VAE mapper resolves its tensors, sizes and preprocessing from the graphs and their manifests.</summary>
internal sealed partial class VaeMapper
{
    private static VaeConfig Resolve(VaeConfig r, OnnxModel? encoder, ModelManifest? encoderManifest, OnnxModel? decoder, ModelManifest? decoderManifest)
    {
        var c = r;
        int latentSize = 0;
        if (encoder != null)
        {
            string image = Tensor(encoder, encoderManifest?.Role("image"), "image", isInput: true);
            string mean = Tensor(encoder, encoderManifest?.Role("mean"), "mean", isInput: false);
            string logVariance = Tensor(encoder, encoderManifest?.Role("logvar"), "logvar", isInput: false);
            int[] dims = encoder.InputMetadata[image].Dimensions;
            if (dims.Length != 4 || dims.Skip(1).Any(d => d <= 0))
            {
                ThrowHelper.InvalidOperation($"The ONNX input '{image}' of model {encoder.Name} has shape [{string.Join(", ", dims)}]: a VAE encoder takes images of a fixed size [batch, channels, height, width].");
            }

            latentSize = LatentDim(encoder, mean, isInput: false);
            if (LatentDim(encoder, logVariance, isInput: false) != latentSize)
            {
                ThrowHelper.InvalidOperation($"The ONNX outputs '{mean}' and '{logVariance}' of model {encoder.Name} differ in size.");
            }

            var spec = encoderManifest?.Preprocessing;
            var preprocessing = spec != null
                ? ImagePreprocessingSettings.FromManifest(spec, encoderManifest!.Source)
                : new ImagePreprocessingSettings(dims[3], dims[2], dims[1], ResizeKind.None, 0, false, 1.0 / 255, new float[dims[1]], Enumerable.Repeat(1f, dims[1]).ToArray());
            preprocessing.Validate();
            if (preprocessing.HasV3Settings)
            {
                ThrowHelper.NotSupported<int>($"The model manifest {encoderManifest!.Source} sets a preprocessing layout, color order, interpolation, offset or mean image, which the VAE encoder does not take (supported: CHW, RGB or grey, bilinear, offset 0, no mean image).");
            }

            if (preprocessing.Channels != dims[1] || preprocessing.Height != dims[2] || preprocessing.Width != dims[3])
            {
                ThrowHelper.InvalidOperation($"The model manifest {encoderManifest!.Source} preprocesses to {preprocessing.Channels} x {preprocessing.Height} x {preprocessing.Width}, but the ONNX input '{image}' of model {encoder.Name} is [{string.Join(", ", dims)}].");
            }

            c = c with { ImageTensorName = image, MeanTensorName = mean, LogVarianceTensorName = logVariance, Preprocessing = preprocessing };
        }

        if (decoder != null)
        {
            string z = Tensor(decoder, decoderManifest?.Role("z"), "z", isInput: true);
            string logits = Tensor(decoder, decoderManifest?.Role("logits"), "logits", isInput: false);
            int decoderLatent = LatentDim(decoder, z, isInput: true);
            if (latentSize != 0 && decoderLatent != latentSize)
            {
                ThrowHelper.InvalidOperation($"The decoder's input '{z}' of model {decoder.Name} takes {decoderLatent} latent values, but the encoder {encoder!.Name} gives {latentSize}.");
            }

            var likelihood = decoderManifest?.Likelihood;
            if (likelihood != null && (!string.Equals(likelihood.Kind, "bernoulli", StringComparison.OrdinalIgnoreCase) || !string.Equals(likelihood.OutputIs ?? "logits", "logits", StringComparison.OrdinalIgnoreCase)))
            {
                ThrowHelper.NotSupported<int>($"The model manifest {decoderManifest!.Source} has a '{likelihood.Kind}' likelihood with '{likelihood.OutputIs}' outputs; MlNotes' VAE supports Bernoulli logits.");
            }

            // likelihood.data_range other than [0, 1] is refused when the manifest is read (ManifestFields).
            int[] dims = decoder.OutputMetadata[logits].Dimensions;
            if (dims.Skip(1).Any(d => d <= 0) || (encoder != null && dims.Skip(1).Aggregate(1, (a, b) => a * b) != encoder.InputMetadata[c.ImageTensorName].Dimensions.Skip(1).Aggregate(1, (a, b) => a * b)))
            {
                ThrowHelper.InvalidOperation($"The decoder's output '{logits}' of model {decoder.Name} has shape [{string.Join(", ", dims)}]: it must have a fixed size, that of the encoder's images.");
            }

            latentSize = decoderLatent;
            c = c with { LatentTensorName = z, LogitsTensorName = logits };
        }

        int? declared = (encoderManifest ?? decoderManifest)?.LatentSize;
        if (declared is int size && size != latentSize)
        {
            ThrowHelper.InvalidOperation($"The model manifest {(encoderManifest ?? decoderManifest)!.Source} gives latent_size {size}, but the graph's latent vectors have {latentSize} values.");
        }

        return c with { LatentSize = latentSize };
    }

    private static string Tensor(OnnxModel model, string? fromManifest, string conventional, bool isInput)
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

    private static int LatentDim(OnnxModel model, string tensor, bool isInput)
    {
        int[] dims = (isInput ? model.InputMetadata : model.OutputMetadata)[tensor].Dimensions;
        return dims.Length == 2 && dims[1] > 0
            ? dims[1]
            : ThrowHelper.InvalidOperation<int>($"The ONNX tensor '{tensor}' of model {model.Name} has shape [{string.Join(", ", dims)}]: a VAE latent is [batch, latent size].");
    }
}
