using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.VqVae;

/// <summary>
/// Encodes images with a VQ-VAE's ONNX encoder into a grid of latent vectors and quantizes each to the nearest code of the
/// manifest's codebook: adds <c>Codes</c>, the image's tokens (a vector of keys, one per grid position), and optionally the
/// code vectors. Create it with <c>mlContext.Transforms.EncodeVqVae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`, preprocessed as the manifest says), or a known-size vector of Single: the encoder's input as is (CHW, normalized as the manifest says) |
/// | Output column data type | `Codes`: vector of keys (UInt32, key count = codebook size), grid height x width; `CodeVectors`, `Latents` (optional): vectors of Single, height x width x code size (the codes' vectors; the unquantized latents) |
/// | Exportable to ONNX | No |
///
/// Code index k is key k + 1 (0 is ML.NET's missing key). The nearest code is argmin_k ||z - c_k||^2 in double, ties to the
/// lower index, as the manifest's `quantization` says; a latent vector with a NaN (from NaN pixels) gets the missing key 0 and NaN code vectors. Apply models only from trusted sources.
/// See the sample in `samples/MlNotes.Samples/Vae/VqVaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class VqVaeEncoderEstimator : OnnxEstimatorBase<VqVaeTransformer>
{
    internal VqVaeEncoderEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static VqVaeTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, null, null, o.ManifestFile, o.ExecutionSettings, NeedsEncoder: true, NeedsDecoder: false);
        return VqVaeMapper.Estimate(env, nameof(VqVaeEncoderEstimator), sources, new VqVaeConfig
        {
            InputColumnName = NotNull(o.InputColumnName, nameof(options.InputColumnName)),
            CodesColumnName = o.CodesColumnName,
            CodeVectorsColumnName = o.CodeVectorsColumnName,
            LatentsColumnName = o.LatentsColumnName,
            BatchSize = o.BatchSize,
        }, nameof(options.CodesColumnName), nameof(options.CodeVectorsColumnName), nameof(options.LatentsColumnName));
    }

    /// <summary>Options of <see cref="VqVaeEncoderEstimator"/>. The codebook, grid and preprocessing come from the manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The encoder's JSON manifest (with the codebook). Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The image column: <c>MLImage</c>, or a Single vector of the encoder's input as is (CHW, normalized as the manifest says).</summary>
        public string InputColumnName { get; set; } = "Image";

        /// <summary>The codes column (a key vector, one key per grid position); null for none.</summary>
        public string? CodesColumnName { get; set; } = "Codes";

        /// <summary>The code vectors column (height x width x code size, channels last, the decoder's input); null for none.</summary>
        public string? CodeVectorsColumnName { get; set; }

        /// <summary>The encoder's unquantized latent grid (height x width x code size, channels last), e.g. to train a codebook on; null for none.</summary>
        public string? LatentsColumnName { get; set; }

        /// <summary>Images per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = 64;
    }
}
