using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.Cvae;

/// <summary>
/// The generative classifier of a conditional VAE: for each image the ELBO under every class c (one batched encoder and decoder
/// run over the image x class pairs, eps = 0), then by Bayes' rule P(c | x) = exp(ELBO(x, c) + log P(c) - logsumexp_k(ELBO(x, k)
/// + log P(k))), the ELBO standing in for log p(x | c). Create it with <c>mlContext.Transforms.ClassifyCvae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`), or a known-size vector of Single, the encoder's input as is (CHW, normalized as the manifest says) |
/// | Output column data type | `Score`: known-size vector of Single, P(c given x), the class names as slot names; `PredictedLabel`: key over the classes (key values the class names) |
/// | Exportable to ONNX | No |
///
/// The columns are those `mlContext.MulticlassClassification.Evaluate` reads (its label column: a key over the same classes).
/// The priors P(c) are the manifest's `class_counts` normalized, unless `ClassPriors` is given. The log-sum-exp is taken with
/// the largest term factored out, in double. Each image costs one encoder and one decoder run per class.
/// Apply models only from trusted sources. See the sample in `samples/MlNotes.Samples/Cvae/CvaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class CvaeClassifierEstimator : OnnxEstimatorBase<CvaeClassifierTransformer>
{
    internal CvaeClassifierEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static CvaeClassifierTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        if (string.IsNullOrEmpty(o.ScoreColumnName) || string.IsNullOrEmpty(o.PredictedLabelColumnName) || o.ScoreColumnName == o.PredictedLabelColumnName)
        {
            ThrowHelper.BadOption(nameof(Options.ScoreColumnName), $"ScoreColumnName and PredictedLabelColumnName must be two different non-empty names, got '{o.ScoreColumnName}' and '{o.PredictedLabelColumnName}'.");
        }

        var config = new CvaeConfig
        {
            Mode = CvaeMode.Classify,
            InputColumnName = o.InputColumnName,
            ScoreColumnName = o.ScoreColumnName,
            PredictedLabelColumnName = o.PredictedLabelColumnName,
            UseLatentMean = true,
            BatchSize = o.BatchSize,
        };
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, o.DecoderModelFile, o.DecoderModelBytes, o.ManifestFile, o.ExecutionSettings, NeedsEncoder: true, NeedsDecoder: true);
        return new CvaeClassifierTransformer(CvaeMapper.Create(env, nameof(CvaeClassifierTransformer), sources, config, o.ClassPriors));
    }

    /// <summary>Options of <see cref="CvaeClassifierEstimator"/>: <see cref="OnnxModelOptions.ModelFile"/> is the encoder. Unset values come from the manifests.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>Path of the decoder's ONNX model. Default: the one the encoder's manifest names.</summary>
        public string? DecoderModelFile { get; set; }

        /// <summary>The decoder's ONNX model itself.</summary>
        public byte[]? DecoderModelBytes { get; set; }

        /// <summary>The encoder's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The image column: <c>MLImage</c>, or a Single vector of the encoder's input as is.</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The posterior column, P(c given x) per class.</summary>
        public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

        /// <summary>The predicted class column (a key).</summary>
        public string PredictedLabelColumnName { get; set; } = Defaults.PredictedLabelColumnName;

        /// <summary>The class priors P(c), one positive value per class (normalized to sum 1). Default: the manifest's class_counts.</summary>
        public float[]? ClassPriors { get; set; }

        /// <summary>Images per batch; each runs once per class through both graphs.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The posterior column.</summary>
        public const string ScoreColumnName = "Score";

        /// <summary>The predicted label column.</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>Images per batch.</summary>
        public const int BatchSize = 16;
    }
}
