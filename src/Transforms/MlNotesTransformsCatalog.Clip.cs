using System;
using Microsoft.ML.Data;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Text;
using MlNotes.Transforms.Vision;

namespace Microsoft.ML;

/// <summary>MlNotes' CLIP and dual-encoder transforms on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Embeds images with a CLIP image tower (or any ONNX graph from an image to a vector), preprocessing them as its manifest says,
    /// into an L2-normalized embedding column.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the image tower; its manifest is the .json beside it. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The embedding column.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c>, a path, encoded bytes or raw pixels.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.EncodeClipImage("models-onnx/clip-fashion-image.onnx", inputColumnName: "ImagePath")
    ///     .Append(mlContext.Transforms.ClassifyZeroShot("models-onnx/clip-fashion-text.onnx"));
    /// </code></example>
    public static OnnxImageEncoderEstimator EncodeClipImage(this TransformsCatalog catalog, string modelFile,
        string outputColumnName = OnnxImageEncoderEstimator.Defaults.OutputColumnName, string inputColumnName = OnnxImageEncoderEstimator.Defaults.InputColumnName,
        int batchSize = OnnxImageEncoderEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return EncodeClipImage(catalog, new OnnxImageEncoderEstimator.Options
        {
            ModelFile = modelFile,
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            BatchSize = batchSize,
        });
    }

    /// <summary>Embeds images with an ONNX image tower, as <paramref name="options"/> say (unset values come from the manifest).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, preprocessing overrides, error handling, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, or does not take images of the configured size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or names a tensor the graph lacks.</exception>
    public static OnnxImageEncoderEstimator EncodeClipImage(this TransformsCatalog catalog, OnnxImageEncoderEstimator.Options options)
        => new OnnxImageEncoderEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Embeds text with a CLIP text tower (a causal Transformer pooled at the end-of-text token, as exported), tokenized with
    /// Microsoft.ML.Tokenizers from the manifest's vocab, into an L2-normalized embedding column.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the text tower; its manifest is the .json beside it. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The embedding column.</param>
    /// <param name="inputColumnName">The text column.</param>
    /// <param name="batchSize">Texts per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>; <c>AsEmbeddingGenerator()</c> gives the same vectors.</returns>
    public static OnnxTextEncoderEstimator EncodeClipText(this TransformsCatalog catalog, string modelFile,
        string outputColumnName = "TextEmbedding", string inputColumnName = OnnxTextEncoderEstimator.Defaults.InputColumnName,
        int batchSize = OnnxTextEncoderEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return EncodeClipText(catalog, new OnnxTextEncoderEstimator.Options
        {
            ModelFile = modelFile,
            EmbeddingColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            BatchSize = batchSize,
        });
    }

    /// <summary>Embeds text with a CLIP text tower as <paramref name="options"/> say; the embedding is always L2-normalized.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, vocab, columns, lengths, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model, manifest or vocab file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, or the vocab does not fit the graph.</exception>
    public static OnnxTextEncoderEstimator EncodeClipText(this TransformsCatalog catalog, OnnxTextEncoderEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        var normalized = (OnnxTextEncoderEstimator.Options)options.Copy();
        normalized.Normalize = true;
        return new OnnxTextEncoderEstimator(CatalogUtils.GetEnvironment(catalog), normalized);
    }

    /// <summary>
    /// Zero-shot classification: embeds the prompts (every template filled with every class name) with the CLIP text tower at
    /// <c>Fit</c>, averages each label's prompts, and scores an image embedding column against the labels: <c>Score</c>
    /// (softmax of logit scale x cosine) and <c>PredictedLabel</c> (key type), ready for <c>MulticlassClassification.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="textTowerModelFile">Path of the CLIP text tower; its manifest (the .json beside it) gives the defaults.</param>
    /// <param name="labels">The labels, also used as the class names in the prompts; null for the manifest's labels and class names.</param>
    /// <param name="templates">Prompt templates with one <c>{}</c> each; null for the manifest's zero-shot templates.</param>
    /// <param name="inputColumnName">The image embedding column (from <c>EncodeClipImage</c>).</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">No labels, an empty label or template, a template without <c>{}</c>.</exception>
    public static ZeroShotClassifierEstimator ClassifyZeroShot(this TransformsCatalog catalog, string textTowerModelFile,
        string[]? labels = null, string[]? templates = null, string inputColumnName = ZeroShotClassifierEstimator.Defaults.InputColumnName)
    {
        ArgumentNullException.ThrowIfNull(textTowerModelFile);
        return ClassifyZeroShot(catalog, new ZeroShotClassifierEstimator.Options
        {
            ModelFile = textTowerModelFile,
            Labels = labels,
            Templates = templates,
            InputColumnName = inputColumnName,
        });
    }

    /// <summary>Zero-shot classification as <paramref name="options"/> say (labels, prompt words, templates, logit scale).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The text tower, the prompts, the columns.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">No labels, an empty label or template, a template without <c>{}</c>, a bad logit scale.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The text tower or its manifest does not exist.</exception>
    public static ZeroShotClassifierEstimator ClassifyZeroShot(this TransformsCatalog catalog, ZeroShotClassifierEstimator.Options options)
        => new ZeroShotClassifierEstimator(Environment(catalog, options), options);

    /// <summary>Adds logit scale x cosine similarity of two embedding columns of the same size (CLIP's logit for matched rows).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The similarity column.</param>
    /// <param name="columnNameA">The first embedding column.</param>
    /// <param name="columnNameB">The second embedding column.</param>
    /// <param name="logitScale">The factor; 1 gives the plain cosine.</param>
    /// <returns>The estimator.</returns>
    public static EmbeddingSimilarityEstimator ComputeEmbeddingSimilarity(this TransformsCatalog catalog,
        string outputColumnName = EmbeddingSimilarityEstimator.Defaults.OutputColumnName,
        string columnNameA = EmbeddingSimilarityEstimator.Defaults.ColumnNameA, string columnNameB = EmbeddingSimilarityEstimator.Defaults.ColumnNameB,
        float logitScale = 1f)
        => ComputeEmbeddingSimilarity(catalog, new EmbeddingSimilarityEstimator.Options
        {
            OutputColumnName = outputColumnName,
            ColumnNameA = columnNameA,
            ColumnNameB = columnNameB,
            LogitScale = logitScale,
        });

    /// <summary>Adds the scaled cosine similarity of two embedding columns, as <paramref name="options"/> say (the scale may come from a CLIP manifest).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Columns and logit scale.</param>
    /// <returns>The estimator.</returns>
    public static EmbeddingSimilarityEstimator ComputeEmbeddingSimilarity(this TransformsCatalog catalog, EmbeddingSimilarityEstimator.Options options)
        => new EmbeddingSimilarityEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Exact embedding search: <c>Fit</c> indexes the embeddings of the data it is given; the transformer adds, for each query row,
    /// the indices, cosine scores (and keys) of its <paramref name="topK"/> nearest indexed rows.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="inputColumnName">The query embedding column; also the indexed column unless the options say otherwise.</param>
    /// <param name="topK">Matches per query.</param>
    /// <param name="indexKeyColumnName">A text column of the indexed data returned with the matches (a path, an id); null for none.</param>
    /// <returns>The estimator.</returns>
    public static EmbeddingRetrievalEstimator RetrieveNearestEmbeddings(this TransformsCatalog catalog,
        string inputColumnName = EmbeddingRetrievalEstimator.Defaults.InputColumnName, int topK = EmbeddingRetrievalEstimator.Defaults.TopK,
        string? indexKeyColumnName = null)
        => RetrieveNearestEmbeddings(catalog, new EmbeddingRetrievalEstimator.Options
        {
            InputColumnName = inputColumnName,
            TopK = topK,
            IndexKeyColumnName = indexKeyColumnName,
        });

    /// <summary>Exact embedding search, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Query and index columns, keys, k, batch size.</param>
    /// <returns>The estimator.</returns>
    public static EmbeddingRetrievalEstimator RetrieveNearestEmbeddings(this TransformsCatalog catalog, EmbeddingRetrievalEstimator.Options options)
        => new EmbeddingRetrievalEstimator(Environment(catalog, options), options);

    /// <summary>
    /// A dual encoder of any two ONNX towers with vector inputs (the notes' motion and music encoders): normalized embeddings of
    /// column <paramref name="columnNameA"/> and of <paramref name="columnNameB"/>, and their scaled cosine when a row has both.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFileA">Path of tower A. Apply models only from trusted sources.</param>
    /// <param name="modelFileB">Path of tower B.</param>
    /// <param name="columnNameA">Tower A's input column.</param>
    /// <param name="columnNameB">Tower B's input column.</param>
    /// <param name="logitScale">The factor of the cosine (the model's learned scale; 1 for the plain cosine).</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    public static DualEncoderEstimator EncodeDual(this TransformsCatalog catalog, string modelFileA, string modelFileB,
        string columnNameA = DualEncoderEstimator.Defaults.ColumnNameA, string columnNameB = DualEncoderEstimator.Defaults.ColumnNameB, float logitScale = 1f)
    {
        ArgumentNullException.ThrowIfNull(modelFileA);
        ArgumentNullException.ThrowIfNull(modelFileB);
        return EncodeDual(catalog, new DualEncoderEstimator.Options
        {
            ModelFile = modelFileA,
            ModelFileB = modelFileB,
            ColumnNameA = columnNameA,
            ColumnNameB = columnNameB,
            LogitScale = logitScale,
        });
    }

    /// <summary>A dual encoder of two ONNX towers, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The towers, their tensors and columns, the logit scale, execution provider.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="InvalidOperationException">The towers' embedding sizes differ, or an embedding is not float32.</exception>
    public static DualEncoderEstimator EncodeDual(this TransformsCatalog catalog, DualEncoderEstimator.Options options)
        => new DualEncoderEstimator(Environment(catalog, options), options);
}
