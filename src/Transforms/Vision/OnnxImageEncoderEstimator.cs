using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// Embeds images with an ONNX image tower (CLIP's image encoder, a ViT's class token, any graph from an image to a vector):
/// the model's own preprocessing, batched scoring, and an L2-normalized embedding. Create it with
/// <c>mlContext.Transforms.EncodeClipImage</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`), an image path (text, read directly), encoded image bytes (`LoadRawImageBytes`), or raw pixels: a byte or Single vector, height x width x channels interleaved, values 0-255 |
/// | Output column data type | Known-size vector of Single (the embedding, L2-normalized unless `Normalize` is false); with `ContinueOnError` an error flag (Boolean) |
/// | Exportable to ONNX | No |
///
/// Preprocessing follows the model's manifest (`models-onnx/README.md`) or the options, as for `ClassifyImageOnnx`.
/// The embedding is the graph output with the manifest's `embedding` role, or `EmbeddingTensorName`, or the graph's only output.
/// In front of a trainer that reads its data several times (SDCA, L-BFGS, FastTree), append `AppendCacheCheckpoint(mlContext)`
/// after this estimator, or every pass scores the images again; a view read in full a second time logs a warning saying so.
/// Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class OnnxImageEncoderEstimator : OnnxEstimatorBase<OnnxImageEncoderTransformer>
{
    internal OnnxImageEncoderEstimator(IHostEnvironment env, Options options)
        : base(new OnnxImageEncoderTransformer(env, Copy(env, options)))
    {
    }

    /// <summary>Options of <see cref="OnnxImageEncoderEstimator"/>. Unset values come from the manifest.</summary>
    public sealed class Options : OnnxImageModelOptions
    {
        /// <summary>The embedding column.</summary>
        public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

        /// <summary>Graph output with the embedding. Default: the manifest's embedding role, or the graph's only output.</summary>
        public string? EmbeddingTensorName { get; set; }

        /// <summary>L2-normalize the embedding (CLIP compares unit vectors; a graph that already normalizes is left as it is).</summary>
        public bool Normalize { get; set; } = true;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The embedding column.</summary>
        public const string OutputColumnName = "ImageEmbedding";

        /// <summary>Images per run.</summary>
        public const int BatchSize = 64;
    }
}
