using System;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Text;
using MlNotes.Transforms.Vision;

namespace Microsoft.ML;

/// <summary>MlNotes' transforms on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Scores an ONNX model in batches of rows, mapping every graph input from the column of the same name
    /// and adding one column per graph output (or per name in <paramref name="outputColumnNames"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the ONNX model. Apply models only from trusted sources.</param>
    /// <param name="outputColumnNames">Graph outputs to add as columns of the same names; null for all of them.</param>
    /// <param name="inputColumnNames">Graph inputs, read from columns of the same names; null for all of them.</param>
    /// <param name="batchSize">Rows per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// using var scorer = mlContext.Transforms.ApplyOnnxModelBatched("mlp.onnx", outputColumnNames: new[] { "y" }).Fit(data);
    /// IDataView scored = scorer.Transform(data);
    /// </code></example>
    public static OnnxScoringEstimator ApplyOnnxModelBatched(this TransformsCatalog catalog, string modelFile,
        string[]? outputColumnNames = null, string[]? inputColumnNames = null, int batchSize = OnnxScoringEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ApplyOnnxModelBatched(catalog, new OnnxScoringEstimator.Options
        {
            ModelFile = modelFile,
            OutputColumnNames = outputColumnNames,
            InputColumnNames = inputColumnNames,
            BatchSize = batchSize,
        });
    }

    /// <summary>Scores an ONNX model in batches of rows, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, column mapping, batch size, execution provider and threads.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The model cannot be loaded by ONNX Runtime.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or a name does not match the graph.</exception>
    /// <exception cref="NotSupportedException">The provider is not available and <see cref="OnnxModelOptions.FallbackToCpu"/> is false, or the graph has a tensor MlNotes cannot map.</exception>
    public static OnnxScoringEstimator ApplyOnnxModelBatched(this TransformsCatalog catalog, OnnxScoringEstimator.Options options)
        => new OnnxScoringEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Classifies images with an ONNX image classifier, preprocessing them as its manifest says (the .json beside the model),
    /// and adds <c>Score</c> (probabilities, class names as slot names), <c>PredictedLabel</c> (key type) and, when the
    /// graph has one, <c>Embedding</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the ONNX model; its manifest is the file beside it with the extension .json. Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c> from <c>LoadImages</c>, or encoded image bytes from <c>LoadRawImageBytes</c>.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder, "ImagePath")
    ///     .Append(mlContext.Transforms.ClassifyImageOnnx("models-onnx/vit-fashion.onnx"));
    /// </code></example>
    public static OnnxImageClassifierEstimator ClassifyImageOnnx(this TransformsCatalog catalog, string modelFile,
        string inputColumnName = OnnxImageClassifierEstimator.Defaults.InputColumnName, int batchSize = OnnxImageClassifierEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ClassifyImageOnnx(catalog, new OnnxImageClassifierEstimator.Options
        {
            ModelFile = modelFile,
            InputColumnName = inputColumnName,
            BatchSize = batchSize,
        });
    }

    /// <summary>Classifies images with an ONNX image classifier, as <paramref name="options"/> say (unset values come from the manifest).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, preprocessing overrides, error handling, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, or does not take images of the configured size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or names a tensor the graph lacks.</exception>
    public static OnnxImageClassifierEstimator ClassifyImageOnnx(this TransformsCatalog catalog, OnnxImageClassifierEstimator.Options options)
        => new OnnxImageClassifierEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Encodes a text column with an ONNX Transformer encoder and its manifest (the .json beside the model, naming the vocab):
    /// adds <c>Embedding</c> and, for classifier graphs, <c>Score</c> and <c>PredictedLabel</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the ONNX model; its manifest is the file beside it with the extension .json. Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The text column.</param>
    /// <param name="normalize">L2-normalize the embedding.</param>
    /// <param name="batchSize">Texts per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    public static OnnxTextEncoderEstimator EncodeTextOnnx(this TransformsCatalog catalog, string modelFile,
        string inputColumnName = OnnxTextEncoderEstimator.Defaults.InputColumnName, bool normalize = false, int batchSize = OnnxTextEncoderEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return EncodeTextOnnx(catalog, new OnnxTextEncoderEstimator.Options
        {
            ModelFile = modelFile,
            InputColumnName = inputColumnName,
            Normalize = normalize,
            BatchSize = batchSize,
        });
    }

    /// <summary>Encodes a text column with an ONNX Transformer encoder, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, vocab, columns, pooling, lengths, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model, manifest or vocab file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, or the vocab is larger than the graph's embedding table.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or names a tensor the graph lacks.</exception>
    public static OnnxTextEncoderEstimator EncodeTextOnnx(this TransformsCatalog catalog, OnnxTextEncoderEstimator.Options options)
        => new OnnxTextEncoderEstimator(Environment(catalog, options), options);

    /// <summary>The environment of <paramref name="catalog"/> for an estimator built from <paramref name="options"/>, both checked for null.</summary>
    private static Runtime.IHostEnvironment Environment(TransformsCatalog catalog, object options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return CatalogUtils.GetEnvironment(catalog);
    }
}
