using System;
using MlNotes.Transforms.Gan;

namespace Microsoft.ML;

/// <summary>MlNotes' GAN transforms on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Generates one image per row with a GAN's ONNX generator (its manifest is the .json beside it): adds <c>Image</c>, from
    /// noise z ~ N(0, I) drawn from <paramref name="seed"/> and the row's id. <c>Fit(...).Generate(n)</c> makes n images
    /// without input rows.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the generator's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The image column.</param>
    /// <param name="seed">The seed of the noise; null for the <c>MLContext</c>'s seed.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// using var generator = mlContext.Transforms.GenerateImagesGan("models-onnx/gan-fashion-generator.onnx", seed: 1)
    ///     .Fit(mlContext.Data.LoadFromEnumerable(Array.Empty&lt;object&gt;()));
    /// IDataView images = generator.Generate(100);
    /// </code></example>
    public static GanGeneratorEstimator GenerateImagesGan(this TransformsCatalog catalog, string modelFile, string outputColumnName = "Image",
        int? seed = null, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return GenerateImagesGan(catalog, new GanGeneratorEstimator.Options { ModelFile = modelFile, OutputColumnName = outputColumnName, Seed = seed, BatchSize = batchSize });
    }

    /// <summary>Generates images with a GAN's ONNX generator, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, noise column or seed, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest or is not a generator (noise [batch, z] to images).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The manifest is of another family or has a field MlNotes does not read.</exception>
    public static GanGeneratorEstimator GenerateImagesGan(this TransformsCatalog catalog, GanGeneratorEstimator.Options options)
        => new GanGeneratorEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Scores images with a GAN's ONNX discriminator: adds <c>RealismLogit</c> (the log odds that the image is real) and
    /// <c>Realism</c> = sigmoid(logit).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the discriminator's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The realism column.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c> from <c>LoadImages</c>, or a Single vector in the graph's units (the generator's <c>Image</c>).</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", folder, "ImagePath")
    ///     .Append(mlContext.Transforms.ScoreRealismGan("models-onnx/gan-fashion-discriminator.onnx"));
    /// </code></example>
    public static GanDiscriminatorEstimator ScoreRealismGan(this TransformsCatalog catalog, string modelFile, string outputColumnName = "Realism",
        string inputColumnName = "Image", int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ScoreRealismGan(catalog, new GanDiscriminatorEstimator.Options { ModelFile = modelFile, OutputColumnName = outputColumnName, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    /// <summary>Scores images with a GAN's ONNX discriminator, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest or is not a discriminator (images to one logit each).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The manifest is of another family or has a field MlNotes does not read.</exception>
    public static GanDiscriminatorEstimator ScoreRealismGan(this TransformsCatalog catalog, GanDiscriminatorEstimator.Options options)
        => new GanDiscriminatorEstimator(Environment(catalog, options), options);
}
