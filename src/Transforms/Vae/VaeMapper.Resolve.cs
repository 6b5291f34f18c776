using System;
using System.Linq;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

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
            (string image, string mean, string logVariance, latentSize, var preprocessing) = VaeGraphs.ResolveEncoder(encoder, encoderManifest, "VAE");
            c = c with { ImageTensorName = image, MeanTensorName = mean, LogVarianceTensorName = logVariance, Preprocessing = preprocessing };
        }

        if (decoder != null)
        {
            string z = VaeGraphs.Tensor(decoder, decoderManifest?.Role("z"), "z", isInput: true);
            string logits = VaeGraphs.Tensor(decoder, decoderManifest?.Role("logits"), "logits", isInput: false);
            int decoderLatent = VaeGraphs.LatentDim(decoder, z, isInput: true, "VAE");
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
}
