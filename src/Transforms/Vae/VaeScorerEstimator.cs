using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Scores images with a VAE (encoder and decoder graphs): per row the reconstruction log-likelihood log p(x|z), the KL of
/// q(z|x) to the prior N(0, I), the ELBO = log p(x|z) - KL, and optionally an importance-sampled estimate of log p(x)
/// with K samples, all in nats. Create it with <c>mlContext.Transforms.ScoreVae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`), or a known-size vector of Single: the encoder's input as is, channels x height x width (CHW), normalized as the manifest says ((pixel * scale - mean) / std); the likelihood reads it un-normalized, x = value * std + mean, which must be in [0, 1] |
/// | Output column data type | `ReconstructionLogLikelihood`, `KlDivergence`, `Elbo`, and with `ImportanceSamples` above 0 `LogLikelihood`: Single |
/// | Exportable to ONNX | No |
///
/// The ELBO uses one sample z = mean + exp(logvar / 2) * eps (sample 0); log p(x) is estimated as
/// log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) by a stable log-sum-exp, with z_0 the ELBO's sample. eps is seeded per
/// (seed, upstream row id, sample), so a row's scores repeat across runs, batch sizes, Save/Load, shards and filtered views
/// (a PredictionEngine's n-th call is row id n); `UseLatentMean` makes eps = 0.
/// The decoder is found through the encoder manifest's `decoder` entry unless `DecoderModelFile` is given.
/// The likelihood is Bernoulli on x = pixel * scale in [0, 1] (the manifest's `likelihood.data_range`; another range is
/// refused): log p(x|z) = -sum(softplus(logits) - x logits). NaN pixels give NaN scores.
/// Apply models only from trusted sources. See the sample in `samples/MlNotes.Samples/Vae/VaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class VaeScorerEstimator : OnnxEstimatorBase<VaeScorerTransformer>
{
    internal VaeScorerEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static VaeScorerTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        CheckImportanceSamples(o.ImportanceSamples);
        var config = new VaeConfig
        {
            InputColumnName = o.InputColumnName,
            NoiseColumnName = o.NoiseColumnName,
            ReconstructionLogLikelihoodColumnName = o.ReconstructionLogLikelihoodColumnName,
            KlDivergenceColumnName = o.KlDivergenceColumnName,
            ElboColumnName = o.ElboColumnName,
            LogLikelihoodColumnName = o.ImportanceSamples > 0 ? o.LogLikelihoodColumnName : null,
            ImportanceSamples = o.ImportanceSamples,
            UseLatentMean = o.UseLatentMean,
            Seed = VaeMapper.ResolveSeed(env, o.Seed),
            BatchSize = o.BatchSize,
        };
        var settings = o.ExecutionSettings;
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, o.DecoderModelFile, o.DecoderModelBytes, o.ManifestFile, settings, NeedsEncoder: true, NeedsDecoder: true);
        return new VaeScorerTransformer(VaeMapper.Create(env, nameof(VaeScorerTransformer), sources, config));
    }

    internal static void CheckImportanceSamples(int samples)
    {
        if (samples < 0)
        {
            ThrowHelper.BadOption("ImportanceSamples", $"ImportanceSamples must be 0 (none) or more, got {samples}.");
        }
    }

    /// <summary>Options of <see cref="VaeScorerEstimator"/>. Unset values come from the manifests.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>Path of the decoder's ONNX model. Default: the one the encoder's manifest names.</summary>
        public string? DecoderModelFile { get; set; }

        /// <summary>The decoder's ONNX model itself.</summary>
        public byte[]? DecoderModelBytes { get; set; }

        /// <summary>The encoder's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The image column: <c>MLImage</c>, or a Single vector of the encoder's input as is (CHW, normalized as the manifest says).</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The log p(x|z) column; null for none.</summary>
        public string? ReconstructionLogLikelihoodColumnName { get; set; } = Defaults.ReconstructionLogLikelihoodColumnName;

        /// <summary>The KL divergence column; null for none.</summary>
        public string? KlDivergenceColumnName { get; set; } = Defaults.KlDivergenceColumnName;

        /// <summary>The ELBO column.</summary>
        public string ElboColumnName { get; set; } = Defaults.ElboColumnName;

        /// <summary>The importance-sampled log p(x) column, added when <see cref="ImportanceSamples"/> is above 0.</summary>
        public string LogLikelihoodColumnName { get; set; } = Defaults.LogLikelihoodColumnName;

        /// <summary>K of the importance-sampled log p(x); 0 for none.</summary>
        public int ImportanceSamples { get; set; }

        /// <summary>The seed of eps. Default: the <c>MLContext</c>'s seed, else 0.</summary>
        public int? Seed { get; set; }

        /// <summary>eps = 0: z is the posterior mean, a deterministic score.</summary>
        public bool UseLatentMean { get; set; }

        /// <summary>A Single vector column (latent size x max(1, K)) of eps to use instead of the seeded draw; null for none.</summary>
        public string? NoiseColumnName { get; set; }

        /// <summary>Images per ONNX Runtime run (the decoder runs images x max(1, K) latents).</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The log p(x|z) column.</summary>
        public const string ReconstructionLogLikelihoodColumnName = "ReconstructionLogLikelihood";

        /// <summary>The KL column.</summary>
        public const string KlDivergenceColumnName = "KlDivergence";

        /// <summary>The ELBO column.</summary>
        public const string ElboColumnName = "Elbo";

        /// <summary>The log p(x) column.</summary>
        public const string LogLikelihoodColumnName = "LogLikelihood";

        /// <summary>Images per run.</summary>
        public const int BatchSize = 64;
    }
}
