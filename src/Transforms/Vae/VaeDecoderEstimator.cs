using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Decodes latent vectors with a VAE's ONNX decoder into the likelihood's parameters: for the notes' Bernoulli decoder,
/// per-pixel probabilities sigmoid(logits), shaped as the image (channels x height x width, values in [0, 1]).
/// Create it with <c>mlContext.Transforms.DecodeVae</c>; its transformer also samples from the prior and interpolates.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Known-size vector of Single of the decoder's latent size (`Latent` or `LatentMean` from `EncodeVae`) |
/// | Output column data type | `Reconstruction`: known-size vector of Single with the image's dimensions (channels, height, width) |
/// | Exportable to ONNX | No |
///
/// A latent column of another size is refused when the pipeline is built. NaN latents give NaN pixels.
/// Apply models only from trusted sources. See the sample in `samples/MlNotes.Samples/Vae/VaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class VaeDecoderEstimator : OnnxEstimatorBase<VaeDecoderTransformer>
{
    internal VaeDecoderEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static VaeDecoderTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        var config = new VaeConfig
        {
            LatentInputColumnName = o.InputColumnName,
            ReconstructionColumnName = o.OutputColumnName,
            BatchSize = o.BatchSize,
        };
        var settings = o.ExecutionSettings;
        var sources = new VaeModelSources(null, null, o.ModelFile, o.ModelBytes, o.ManifestFile, settings, NeedsEncoder: false, NeedsDecoder: true);
        return new VaeDecoderTransformer(VaeMapper.Create(env, nameof(VaeDecoderTransformer), sources, config));
    }

    /// <summary>Options of <see cref="VaeDecoderEstimator"/>. Unset values come from the manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The decoder's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The latent column: a Single vector of the latent size.</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The reconstruction column.</summary>
        public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

        /// <summary>Latent vectors per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The latent column.</summary>
        public const string InputColumnName = "Latent";

        /// <summary>The reconstruction column.</summary>
        public const string OutputColumnName = "Reconstruction";

        /// <summary>Latent vectors per run.</summary>
        public const int BatchSize = 64;
    }
}
