using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.Cvae;

/// <summary>
/// Scores (image, label) pairs with a conditional VAE (encoder and decoder graphs): per row the conditional ELBO
/// log p(x|z, c) - KL(q(z|x, c) || N(0, I)), with its two terms, in nats. Create it with <c>mlContext.Transforms.ScoreCvae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | The image: `MLImage` (from `LoadImages`), or a known-size vector of Single, the encoder's input as is (CHW, normalized as the manifest says); the label: a class index (Int32, Int64, UInt32, or an integral Single) or a key over the classes |
/// | Output column data type | `Elbo`, `ReconstructionLogLikelihood`, `KlDivergence`: Single |
/// | Exportable to ONNX | No |
///
/// The ELBO uses one sample z = mean + exp(logvar / 2) * eps with eps seeded per (seed, upstream row id), as `ScoreVae` does;
/// `UseLatentMean` makes eps = 0 (the deterministic estimate the generative classifier uses). The likelihood is Bernoulli on
/// x = pixel * scale in [0, 1]. A missing label or one outside the classes throws, naming the column, the row and the value;
/// an image of another size is refused when the pipeline is built. The decoder is found through the encoder manifest's
/// `decoder` entry unless `DecoderModelFile` is given. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class CvaeScorerEstimator : OnnxEstimatorBase<CvaeScorerTransformer>
{
    internal CvaeScorerEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static CvaeScorerTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        var config = new CvaeConfig
        {
            Mode = CvaeMode.Score,
            InputColumnName = o.InputColumnName,
            LabelColumnName = o.LabelColumnName,
            NoiseColumnName = o.NoiseColumnName,
            ElboColumnName = o.ElboColumnName,
            ReconstructionLogLikelihoodColumnName = o.ReconstructionLogLikelihoodColumnName,
            KlDivergenceColumnName = o.KlDivergenceColumnName,
            UseLatentMean = o.UseLatentMean,
            Seed = VaeMapper.ResolveSeed(env, o.Seed),
            BatchSize = o.BatchSize,
        };
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, o.DecoderModelFile, o.DecoderModelBytes, o.ManifestFile, o.ExecutionSettings, NeedsEncoder: true, NeedsDecoder: true);
        return new CvaeScorerTransformer(CvaeMapper.Create(env, nameof(CvaeScorerTransformer), sources, config, null));
    }

    /// <summary>Options of <see cref="CvaeScorerEstimator"/>: <see cref="OnnxModelOptions.ModelFile"/> is the encoder. Unset values come from the manifests.</summary>
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

        /// <summary>The label column: the class the image is scored under.</summary>
        public string LabelColumnName { get; set; } = Defaults.LabelColumnName;

        /// <summary>The ELBO column.</summary>
        public string ElboColumnName { get; set; } = Defaults.ElboColumnName;

        /// <summary>The log p(x|z, c) column; null for none.</summary>
        public string? ReconstructionLogLikelihoodColumnName { get; set; } = Defaults.ReconstructionLogLikelihoodColumnName;

        /// <summary>The KL divergence column; null for none.</summary>
        public string? KlDivergenceColumnName { get; set; } = Defaults.KlDivergenceColumnName;

        /// <summary>A Single vector column (the latent size) of eps to use instead of the seeded draw; null for none.</summary>
        public string? NoiseColumnName { get; set; }

        /// <summary>The seed of eps. Default: the <c>MLContext</c>'s seed, else 0.</summary>
        public int? Seed { get; set; }

        /// <summary>eps = 0: z is the posterior mean, a deterministic score.</summary>
        public bool UseLatentMean { get; set; }

        /// <summary>Images per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The label column.</summary>
        public const string LabelColumnName = "Label";

        /// <summary>The ELBO column.</summary>
        public const string ElboColumnName = "Elbo";

        /// <summary>The log p(x|z, c) column.</summary>
        public const string ReconstructionLogLikelihoodColumnName = "ReconstructionLogLikelihood";

        /// <summary>The KL column.</summary>
        public const string KlDivergenceColumnName = "KlDivergence";

        /// <summary>Images per run.</summary>
        public const int BatchSize = 64;
    }
}
