using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// Scores an ONNX model over a data view in batches of rows, on ONNX Runtime.
/// Create it with <see cref="MlNotesTransformsCatalog.ApplyOnnxModelBatched(TransformsCatalog, string, string[], string[], int)"/>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Scalar or vector of Single, Double, Int32, Int64, Boolean (and the other integer types), as the graph's inputs |
/// | Output column data type | As the graph's outputs: a scalar for a [batch] tensor, a vector otherwise (of known size where the graph fixes it) |
/// | Exportable to ONNX | No |
///
/// Unlike `ApplyOnnxModel`, which runs one row per call, this estimator packs `BatchSize` rows into one tensor per graph input
/// and makes one ONNX Runtime run for them. The graph's first axis must be its batch axis (dynamic, or fixed to 1 which scores one
/// row per run). Besides it, each input may have one dynamic axis: rows of a variable-size vector column are then scored in runs of
/// consecutive rows of equal length, never padded.
///
/// The model is read and the session built when the estimator is created, so a missing file, a corrupt model, an unmapped graph
/// input or a missing provider fails there, not while data flows. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class OnnxScoringEstimator : OnnxEstimatorBase<OnnxScoringTransformer>
{
    internal OnnxScoringEstimator(IHostEnvironment env, Options options)
        : base(new OnnxScoringTransformer(env, Copy(env, options)))
    {
    }

    /// <summary>Options of <see cref="OnnxScoringEstimator"/>.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>Columns fed to the graph. Default: <see cref="InputTensorNames"/>, or every graph input, by name.</summary>
        public string[]? InputColumnNames { get; set; }

        /// <summary>Graph inputs, paired one to one with <see cref="InputColumnNames"/>. Default: the same names as the columns. Every graph input must be mapped.</summary>
        public string[]? InputTensorNames { get; set; }

        /// <summary>Columns added. Default: <see cref="OutputTensorNames"/>, or every graph output, by name.</summary>
        public string[]? OutputColumnNames { get; set; }

        /// <summary>Graph outputs, paired one to one with <see cref="OutputColumnNames"/>. Default: the same names as the columns.</summary>
        public string[]? OutputTensorNames { get; set; }

        /// <summary>Rows per ONNX Runtime run. Larger batches amortize the per-run cost; memory grows with them.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>Rows per run.</summary>
        public const int BatchSize = 64;

        /// <summary>The CPU.</summary>
        public const OnnxExecutionProvider ExecutionProvider = OnnxExecutionProvider.Cpu;
    }
}
