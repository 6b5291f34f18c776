using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.VqVae;

/// <summary>
/// Passes images through a VQ-VAE (encoder, nearest codes, decoder): adds <c>Codes</c>, <c>Reconstruction</c> and
/// <c>ReconstructionError</c>, the per-row mean squared error between the image's pixels in [0, 1] and its reconstruction.
/// Create it with <c>mlContext.Transforms.ReconstructVqVae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage`, or a known-size vector of Single: the encoder's input as is |
/// | Output column data type | `Codes`: key vector; `Reconstruction`: vector of Single, the image's shape; `ReconstructionError`: Single |
/// | Exportable to ONNX | No |
///
/// The decoder is the one the encoder's manifest names (`decoder`), unless `DecoderModelFile` or `DecoderModelBytes` is given.
/// NaN pixels give the missing key and NaN reconstructions and errors. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class VqVaeReconstructorEstimator : OnnxEstimatorBase<VqVaeTransformer>
{
    internal VqVaeReconstructorEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static VqVaeTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        var decoder = (o.DecoderModelFile, o.DecoderModelBytes);
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, decoder.Item1, decoder.Item2, o.ManifestFile, o.ExecutionSettings, NeedsEncoder: true, NeedsDecoder: true);
        var config = new VqVaeConfig
        {
            ReconstructionColumnName = o.ReconstructionColumnName,
            ReconstructionErrorColumnName = o.ReconstructionErrorColumnName,
            CodesColumnName = o.CodesColumnName,
            InputColumnName = NotNull(o.InputColumnName, nameof(options.InputColumnName)),
            BatchSize = o.BatchSize,
        };
        return VqVaeMapper.Estimate(env, nameof(VqVaeReconstructorEstimator), sources, config,
            nameof(options.ReconstructionErrorColumnName), nameof(options.CodesColumnName), nameof(options.ReconstructionColumnName));
    }

    /// <summary>Options of <see cref="VqVaeReconstructorEstimator"/>. The codebook, grid and preprocessing come from the encoder's manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The encoder's JSON manifest (with the codebook). Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The decoder's ONNX model. Default: the one the encoder's manifest names.</summary>
        public string? DecoderModelFile { get; set; }

        /// <summary>The decoder's ONNX model as bytes, instead of <see cref="DecoderModelFile"/>.</summary>
        public byte[]? DecoderModelBytes { get; set; }

        /// <summary>The image column: <c>MLImage</c>, or a Single vector of the encoder's input as is.</summary>
        public string InputColumnName { get; set; } = "Image";

        /// <summary>The codes column; null for none.</summary>
        public string? CodesColumnName { get; set; } = "Codes";

        /// <summary>The reconstruction column; null for none.</summary>
        public string? ReconstructionColumnName { get; set; } = "Reconstruction";

        /// <summary>The per-row reconstruction error (mean squared error over the pixels in [0, 1]); null for none.</summary>
        public string? ReconstructionErrorColumnName { get; set; } = "ReconstructionError";

        /// <summary>Images per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = 64;
    }
}
