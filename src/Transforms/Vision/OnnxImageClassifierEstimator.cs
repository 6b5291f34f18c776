using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// Classifies images with an ONNX image classifier (the notes' ViT, a ResNet, a user's torchvision export): the model's own
/// preprocessing, batched scoring, softmax probabilities, a predicted label that <c>MulticlassClassification.Evaluate</c> reads,
/// optional top-k labels and the embedding. Create it with <c>mlContext.Transforms.ClassifyImageOnnx</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`), an image path (text, read directly), encoded image bytes (`LoadRawImageBytes`), or raw pixels: a byte or Single vector, height x width x channels interleaved, values 0-255 |
/// | Output column data type | `Score`: known-size vector of Single (softmax, class names as slot names); `PredictedLabel`: key type whose key values are the class names; optional top-k labels (text) and scores, `Embedding` (vector of Single), an error flag (Boolean) |
/// | Exportable to ONNX | No |
///
/// Preprocessing follows the model's manifest (`models-onnx/README.md`), or the options, and reproduces torchvision on PIL
/// images: conversion to grey or RGB (Pillow's formulas), resize of the shortest side or to an exact size with Pillow's
/// antialiased bilinear filter, center crop, scale to [0, 1], per-channel mean and std, CHW.
///
/// For `Evaluate`, key the label column by the class names in the model's order
/// (`MapValueToKey(..., keyData: ...)` with `ClassNames`), so that key values line up with the score slots.
///
/// With `ContinueOnError`, a row whose image cannot be read or decoded gets NaN scores, a missing predicted label and its
/// error flag set, and the job goes on; `ErrorCount` counts them.
///
/// Graphs as they come: NCHW or NHWC (`Layout`), RGB or BGR (`ChannelOrder`), [0, 1], [0, 255] or [-1, 1] (`PixelRange`, or
/// `Scale` and `Offset`), a per-pixel `MeanImage`, Pillow's bilinear, bicubic or nearest resize (`Interpolation`); a batch axis
/// fixed by the graph runs at its size (the last run padded); logits and embeddings of shape [N, C, 1, 1] are flattened, and
/// token outputs [N, T, C] pooled by `TokenPooling`. `LogitsColumnName` adds the raw logits.
///
/// In front of a trainer that reads its data several times (SDCA, L-BFGS, FastTree), append `AppendCacheCheckpoint(mlContext)`
/// after this estimator, or every pass scores the images again; a view read in full a second time logs a warning saying so.
/// Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class OnnxImageClassifierEstimator : OnnxEstimatorBase<OnnxImageClassifierTransformer>
{
    internal OnnxImageClassifierEstimator(IHostEnvironment env, Options options)
        : base(new OnnxImageClassifierTransformer(env, Copy(env, options)))
    {
    }

    /// <summary>Options of <see cref="OnnxImageClassifierEstimator"/>. Unset values come from the manifest.</summary>
    public sealed class Options : OnnxImageModelOptions
    {
        /// <summary>The probabilities column.</summary>
        public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

        /// <summary>The predicted label column (key type, key values = class names).</summary>
        public string PredictedLabelColumnName { get; set; } = Defaults.PredictedLabelColumnName;

        /// <summary>The embedding column; null for none. Added only when the graph has an embedding output.</summary>
        public string? EmbeddingColumnName { get; set; } = Defaults.EmbeddingColumnName;

        /// <summary>
        /// The energy column (Single), -log sum_c exp(logit_c), the classifier seen as an energy-based model (Liu et al. 2020):
        /// higher for inputs unlike the training data, an out-of-distribution score. Null (the default) for none; "Energy" to add it.
        /// </summary>
        public string? EnergyColumnName { get; set; }

        /// <summary>
        /// The column of the raw logits (the graph's class scores before the softmax: what a torchvision or timm classifier returns),
        /// with the class names as slot names; null (the default) for none. <c>"Logits"</c> is the conventional name.
        /// </summary>
        public string? LogitsColumnName { get; set; }

        /// <summary>When above 0, adds <c>TopKLabels</c> (text) and <c>TopKScores</c> columns with the k most probable classes.</summary>
        public int TopK { get; set; }

        /// <summary>Graph output with the class logits. Default: the manifest's logits role, or the graph's first output.</summary>
        public string? LogitsTensorName { get; set; }

        /// <summary>Graph output with the embedding. Default: the manifest's embedding role, if any.</summary>
        public string? EmbeddingTensorName { get; set; }

        /// <summary>Class names in the model's output order. Default: the manifest's labels.</summary>
        public string[]? ClassNames { get; set; }
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The probabilities column.</summary>
        public const string ScoreColumnName = "Score";

        /// <summary>The predicted label column.</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>The embedding column.</summary>
        public const string EmbeddingColumnName = "Embedding";

        /// <summary>The error flag column.</summary>
        public const string ErrorColumnName = "ImageError";

        /// <summary>Images per run.</summary>
        public const int BatchSize = 64;
    }
}
