using System;
using System.Linq;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.Cvae;

/// <summary>How a CVAE mapper resolves its tensors, sizes, classes and priors from the graphs, their manifests and the options.</summary>
internal sealed partial class CvaeMapper
{
    private static CvaeConfig Resolve(CvaeConfig r, OnnxModel? encoder, ModelManifest? encoderManifest, OnnxModel decoder, ModelManifest? decoderManifest, float[]? priors)
    {
        var c = r;
        var manifest = encoderManifest ?? decoderManifest;
        int latentSize = 0;
        if (encoder != null)
        {
            (string image, string mean, string logVariance, latentSize, var preprocessing) = VaeGraphs.ResolveEncoder(encoder, encoderManifest, "CVAE");
            string label = LabelTensor(encoder, encoderManifest?.Role("label"));
            c = c with { ImageTensorName = image, EncoderLabelTensorName = label, MeanTensorName = mean, LogVarianceTensorName = logVariance, Preprocessing = preprocessing };
        }

        string z = VaeGraphs.Tensor(decoder, decoderManifest?.Role("z"), "z", isInput: true);
        string decoderLabel = LabelTensor(decoder, decoderManifest?.Role("label"));
        string logits = VaeGraphs.Tensor(decoder, decoderManifest?.Role("logits"), "logits", isInput: false);
        int decoderLatent = VaeGraphs.LatentDim(decoder, z, isInput: true, "CVAE");
        if (latentSize != 0 && decoderLatent != latentSize)
        {
            ThrowHelper.InvalidOperation($"The decoder's input '{z}' of model {decoder.Name} takes {decoderLatent} latent values, but the encoder {encoder!.Name} gives {latentSize}.");
        }

        var likelihood = decoderManifest?.Likelihood;
        if (likelihood != null && (!string.Equals(likelihood.Kind, "bernoulli", StringComparison.OrdinalIgnoreCase) || !string.Equals(likelihood.OutputIs ?? "logits", "logits", StringComparison.OrdinalIgnoreCase)))
        {
            ThrowHelper.NotSupported<int>($"The model manifest {decoderManifest!.Source} has a '{likelihood.Kind}' likelihood with '{likelihood.OutputIs}' outputs; MlNotes' CVAE supports Bernoulli logits.");
        }

        int[] outDims = decoder.OutputMetadata[logits].Dimensions;
        int pixels = outDims.Skip(1).Aggregate(1, (a, b) => a * b);
        if (outDims.Skip(1).Any(d => d <= 0) || (encoder != null && pixels != c.Preprocessing!.Channels * c.Preprocessing.Height * c.Preprocessing.Width))
        {
            ThrowHelper.InvalidOperation($"The decoder's output '{logits}' of model {decoder.Name} has shape [{string.Join(", ", outDims)}]: it must have a fixed size, that of the encoder's images.");
        }

        if (manifest?.LatentSize is int declared && declared != decoderLatent)
        {
            ThrowHelper.InvalidOperation($"The model manifest {manifest.Source} gives latent_size {declared}, but the graph's latent vectors have {decoderLatent} values.");
        }

        string[] classes = manifest?.Labels is { Length: >= 2 } labels
            ? labels
            : ThrowHelper.InvalidOperation<string[]>($"A CVAE needs its classes: give the manifest (ManifestFile) with 'labels', at least two{(manifest != null ? $"; {manifest.Source} has {manifest.Labels?.Length ?? 0}" : "")}.");
        if (manifest!.ClassCounts is { } counts && (counts.Length != classes.Length || counts.Any(n => n <= 0)))
        {
            ThrowHelper.NotSupported<int>($"The model manifest {manifest.Source} has class_counts [{string.Join(", ", counts)}]: supported are {classes.Length} positive counts, one per label.");
        }

        c = c with { LatentTensorName = z, DecoderLabelTensorName = decoderLabel, LogitsTensorName = logits, LatentSize = decoderLatent, ClassNames = classes };
        return r.Mode == CvaeMode.Classify ? c with { LogPriors = LogPriors(priors, manifest, classes.Length) } : c;
    }

    /// <summary>log P(c), normalized to sum 1: from the option, else the manifest's class_counts.</summary>
    private static float[] LogPriors(float[]? priors, ModelManifest manifest, int classes)
    {
        double[] p;
        if (priors != null)
        {
            if (priors.Length != classes || priors.Any(v => !(v > 0) || !float.IsFinite(v)))
            {
                ThrowHelper.BadOption("ClassPriors", $"ClassPriors must hold {classes} positive finite values, one per class of {manifest.Source}; got {priors.Length}: [{string.Join(", ", priors.Select(ModelEntry.Text))}].");
            }

            p = priors.Select(v => (double)v).ToArray();
        }
        else
        {
            p = manifest.ClassCounts?.Select(v => (double)v).ToArray()
                ?? ThrowHelper.InvalidOperation<double[]>($"The model manifest {manifest.Source} has no class_counts: give the class priors as ClassPriors.");
        }

        double sum = p.Sum();
        return p.Select(v => (float)Math.Log(v / sum)).ToArray();
    }

    private static string LabelTensor(OnnxModel model, string? fromManifest)
    {
        string name = VaeGraphs.Tensor(model, fromManifest, "label", isInput: true);
        var metadata = model.InputMetadata[name];
        if (metadata.ElementDataType != TensorElementType.Int64 || metadata.Dimensions.Length != 1)
        {
            ThrowHelper.InvalidOperation($"The ONNX input '{name}' of model {model.Name} is {metadata.ElementDataType} [{string.Join(", ", metadata.Dimensions)}]: a CVAE's label is int64 [batch], the class index.");
        }

        return name;
    }
}
