using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.VqVae;

/// <summary>
/// Decodes a VQ-VAE's codes (a key vector, one key per grid position, as <c>EncodeVqVae</c> gives) through the manifest's
/// codebook and the ONNX decoder into <c>Reconstruction</c>: pixels in [0, 1] with the image's shape. Create it with
/// <c>mlContext.Transforms.DecodeVqVae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Vector of keys (UInt32, key count = codebook size), grid height x width |
/// | Output column data type | `Reconstruction`: known-size vector of Single with the decoder output's dimensions, e.g. (1, 28, 28) |
/// | Exportable to ONNX | No |
///
/// A codes column of another type, size or key count is refused when the pipeline is built; a row with a missing key (0) or a
/// vector of another length fails naming the column, the row and the grid position. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class VqVaeDecoderEstimator : OnnxEstimatorBase<VqVaeTransformer>
{
    internal VqVaeDecoderEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static VqVaeTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        var config = new VqVaeConfig
        {
            CodesInputColumnName = NotNull(o.InputColumnName, nameof(options.InputColumnName)),
            ReconstructionColumnName = NotNull(o.OutputColumnName, nameof(options.OutputColumnName)),
            BatchSize = o.BatchSize,
        };
        var sources = new VaeModelSources(null, null, o.ModelFile, o.ModelBytes, o.ManifestFile, o.ExecutionSettings, NeedsEncoder: false, NeedsDecoder: true);
        return new VqVaeTransformer(VqVaeMapper.Create(env, nameof(VqVaeDecoderEstimator), sources, config));
    }

    /// <summary>Options of <see cref="VqVaeDecoderEstimator"/>. The codebook and grid come from the manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The decoder's JSON manifest (with the codebook). Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The codes column: a key vector, one key per grid position.</summary>
        public string InputColumnName { get; set; } = "Codes";

        /// <summary>The reconstruction column.</summary>
        public string OutputColumnName { get; set; } = "Reconstruction";

        /// <summary>Rows per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = 64;
    }
}
