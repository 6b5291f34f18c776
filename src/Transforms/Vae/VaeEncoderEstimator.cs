using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Encodes images with a VAE's ONNX encoder into the posterior q(z|x) = N(mean, diag(exp(logvar))): adds
/// <c>LatentMean</c>, <c>LatentLogVariance</c> and <c>Latent</c>, a reparameterized sample z = mean + exp(logvar / 2) * eps.
/// Create it with <c>mlContext.Transforms.EncodeVae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`, preprocessed as the manifest says), or a known-size vector of Single: the encoder's input as is, channels x height x width (CHW), normalized as the manifest says (for the notes' VAE, mean 0 and std 1: [0, 1] pixels) |
/// | Output column data type | `LatentMean`, `LatentLogVariance`: vectors of Single (latent size); `Latent`: vector of Single, latent size, or samples x latent size |
/// | Exportable to ONNX | No |
///
/// The noise eps of sample s of the row whose upstream row id is r is standard normal from a generator keyed by (seed, r, s)
/// (SplitMix64, Box-Muller): the same seed gives a row the same latents on every run, in any batch size, after Save and Load,
/// and in a shard (SkipRows, TakeRows) or a filtered view. A <c>PredictionEngine</c>'s n-th call (from 0) is row id n: a fresh
/// engine fed the rows of an in-memory view in order gives their samples; give <c>NoiseColumnName</c> to choose the noise.
/// Models saved in format v1 keep keying the noise by the row's position in the cursor.
/// `UseLatentMean` sets eps = 0; `NoiseColumnName` reads eps from a column instead (to reproduce another framework's draw).
/// NaN pixels give NaN outputs. Apply models only from trusted sources.
/// See the sample in `samples/MlNotes.Samples/Vae/VaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class VaeEncoderEstimator : OnnxEstimatorBase<VaeEncoderTransformer>
{
    internal VaeEncoderEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static VaeEncoderTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        if (o.SampleCount < 1)
        {
            ThrowHelper.BadOption(nameof(options.SampleCount), $"SampleCount must be at least 1, got {o.SampleCount}.");
        }

        var config = new VaeConfig
        {
            InputColumnName = o.InputColumnName,
            NoiseColumnName = o.NoiseColumnName,
            MeanColumnName = o.MeanColumnName,
            LogVarianceColumnName = o.LogVarianceColumnName,
            LatentColumnName = o.LatentColumnName,
            SampleCount = o.SampleCount,
            UseLatentMean = o.UseLatentMean,
            Seed = VaeMapper.ResolveSeed(env, o.Seed),
            BatchSize = o.BatchSize,
        };
        var settings = o.ExecutionSettings;
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, null, null, o.ManifestFile, settings, NeedsEncoder: true, NeedsDecoder: false);
        return new VaeEncoderTransformer(VaeMapper.Create(env, nameof(VaeEncoderTransformer), sources, config));
    }

    /// <summary>Options of <see cref="VaeEncoderEstimator"/>. Unset values come from the manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The encoder's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The image column: <c>MLImage</c>, or a Single vector of the encoder's input as is (CHW, normalized as the manifest says).</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The posterior mean column; null for none.</summary>
        public string? MeanColumnName { get; set; } = Defaults.MeanColumnName;

        /// <summary>The posterior log-variance column; null for none.</summary>
        public string? LogVarianceColumnName { get; set; } = Defaults.LogVarianceColumnName;

        /// <summary>The sampled latent column; null for none.</summary>
        public string? LatentColumnName { get; set; } = Defaults.LatentColumnName;

        /// <summary>Samples per row in the latent column; above 1 the column is samples x latent size.</summary>
        public int SampleCount { get; set; } = Defaults.SampleCount;

        /// <summary>The seed of eps. Default: the <c>MLContext</c>'s seed, else 0.</summary>
        public int? Seed { get; set; }

        /// <summary>eps = 0: the latent is the posterior mean.</summary>
        public bool UseLatentMean { get; set; }

        /// <summary>A Single vector column (latent size x samples) of standard normal eps to use instead of the seeded draw; null for none.</summary>
        public string? NoiseColumnName { get; set; }

        /// <summary>Images per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The posterior mean column.</summary>
        public const string MeanColumnName = "LatentMean";

        /// <summary>The posterior log-variance column.</summary>
        public const string LogVarianceColumnName = "LatentLogVariance";

        /// <summary>The sampled latent column.</summary>
        public const string LatentColumnName = "Latent";

        /// <summary>Samples per row.</summary>
        public const int SampleCount = 1;

        /// <summary>Images per run.</summary>
        public const int BatchSize = 64;
    }
}
