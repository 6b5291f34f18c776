using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Clip;

/// <summary>
/// Any two ONNX towers that map vectors into one embedding space (the notes' motion and music encoders, or any CLIP-style pair
/// exported from PyTorch): each tower embeds its column, the embeddings are L2-normalized, and rows with both get
/// logit scale x cosine. Create it with <c>mlContext.Transforms.EncodeDual</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Vectors of the towers' input element types and sizes (each tower's input may have a dynamic axis) |
/// | Output column data type | `EmbeddingA`, `EmbeddingB`: known-size vectors of Single (each added when its input column is present); `Similarity`: Single, when both are |
/// | Exportable to ONNX | No |
///
/// Both towers are scored in batches on their own ONNX Runtime sessions; a tower whose column is absent (queries of one side only)
/// is not loaded into the batch. The towers' embedding sizes are checked when the estimator is built. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class DualEncoderEstimator : OnnxEstimatorBase<DualEncoderTransformer>
{
    internal DualEncoderEstimator(IHostEnvironment env, Options options)
        : base(new DualEncoderTransformer(env, Copy(env, options)))
    {
    }

    /// <summary>
    /// Options of <see cref="DualEncoderEstimator"/>: <see cref="OnnxModelOptions.ModelFile"/> (or <see cref="OnnxModelOptions.ModelBytes"/>)
    /// is tower A, <see cref="ModelFileB"/> (or <see cref="ModelBytesB"/>) tower B; the execution options apply to both.
    /// </summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>Path of tower B's ONNX model. Give this or <see cref="ModelBytesB"/>.</summary>
        public string? ModelFileB { get; set; }

        /// <summary>Tower B's ONNX model itself.</summary>
        public byte[]? ModelBytesB { get; set; }

        /// <summary>Tower A's input column.</summary>
        public string ColumnNameA { get; set; } = Defaults.ColumnNameA;

        /// <summary>Tower B's input column.</summary>
        public string ColumnNameB { get; set; } = Defaults.ColumnNameB;

        /// <summary>Tower A's embedding column.</summary>
        public string OutputColumnNameA { get; set; } = Defaults.OutputColumnNameA;

        /// <summary>Tower B's embedding column.</summary>
        public string OutputColumnNameB { get; set; } = Defaults.OutputColumnNameB;

        /// <summary>The similarity column (rows with both inputs).</summary>
        public string SimilarityColumnName { get; set; } = Defaults.SimilarityColumnName;

        /// <summary>Tower A's graph input. Default: its only input.</summary>
        public string? InputTensorNameA { get; set; }

        /// <summary>Tower B's graph input. Default: its only input.</summary>
        public string? InputTensorNameB { get; set; }

        /// <summary>Tower A's embedding output. Default: its first output.</summary>
        public string? OutputTensorNameA { get; set; }

        /// <summary>Tower B's embedding output. Default: its first output.</summary>
        public string? OutputTensorNameB { get; set; }

        /// <summary>The logit scale multiplying the cosine (the model's learned exp(log scale); 1 for the plain cosine).</summary>
        public float LogitScale { get; set; } = 1f;

        /// <summary>L2-normalize the embeddings.</summary>
        public bool Normalize { get; set; } = true;

        /// <summary>Rows per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>Tower A's input column.</summary>
        public const string ColumnNameA = "A";

        /// <summary>Tower B's input column.</summary>
        public const string ColumnNameB = "B";

        /// <summary>Tower A's embedding column.</summary>
        public const string OutputColumnNameA = "EmbeddingA";

        /// <summary>Tower B's embedding column.</summary>
        public const string OutputColumnNameB = "EmbeddingB";

        /// <summary>The similarity column.</summary>
        public const string SimilarityColumnName = "Similarity";

        /// <summary>Rows per run.</summary>
        public const int BatchSize = 64;
    }
}
