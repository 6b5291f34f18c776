using System;
using MlNotes.Transforms.Cvae;

namespace Microsoft.ML;

/// <summary>MlNotes' conditional VAE transforms on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Generates an image per row for the row's class with a conditional VAE's ONNX decoder (its manifest is the .json beside
    /// it): adds <c>GeneratedImage</c>, per-pixel probabilities decoded from z ~ N(0, I) seeded per row.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the decoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="labelColumnName">The label column: a class index or a key over the classes.</param>
    /// <param name="outputColumnName">The generated image column.</param>
    /// <param name="seed">The seed of z; null for the <c>MLContext</c>'s seed.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// using var generator = mlContext.Transforms.GenerateCvae("models-onnx/cvae-fashion-decoder.onnx").Fit(labels);
    /// </code></example>
    public static CvaeGeneratorEstimator GenerateCvae(this TransformsCatalog catalog, string modelFile,
        string labelColumnName = CvaeGeneratorEstimator.Defaults.LabelColumnName, string outputColumnName = CvaeGeneratorEstimator.Defaults.OutputColumnName, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return GenerateCvae(catalog, new CvaeGeneratorEstimator.Options { ModelFile = modelFile, LabelColumnName = labelColumnName, OutputColumnName = outputColumnName, Seed = seed });
    }

    /// <summary>Generates images for a label column with a conditional VAE's ONNX decoder, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, noise, seed, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, is not a CVAE decoder, or there is no manifest with the classes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The manifest's likelihood is not Bernoulli logits.</exception>
    public static CvaeGeneratorEstimator GenerateCvae(this TransformsCatalog catalog, CvaeGeneratorEstimator.Options options)
        => new CvaeGeneratorEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Scores (image, label) pairs with a conditional VAE (the encoder, and the decoder its manifest names): adds <c>Elbo</c>,
    /// <c>ReconstructionLogLikelihood</c> and <c>KlDivergence</c>, in nats.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c> from <c>LoadImages</c>, or a Single vector of preprocessed pixels.</param>
    /// <param name="labelColumnName">The label column: a class index or a key over the classes.</param>
    /// <param name="useLatentMean">eps = 0: deterministic scores at the posterior mean.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    public static CvaeScorerEstimator ScoreCvae(this TransformsCatalog catalog, string modelFile,
        string inputColumnName = CvaeScorerEstimator.Defaults.InputColumnName, string labelColumnName = CvaeScorerEstimator.Defaults.LabelColumnName, bool useLatentMean = false)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ScoreCvae(catalog, new CvaeScorerEstimator.Options { ModelFile = modelFile, InputColumnName = inputColumnName, LabelColumnName = labelColumnName, UseLatentMean = useLatentMean });
    }

    /// <summary>Scores (image, label) pairs with a conditional VAE, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Graphs, manifest, columns, noise, seed, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">A model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A graph does not match its manifest, or the encoder and decoder do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The manifest's likelihood is not Bernoulli logits.</exception>
    public static CvaeScorerEstimator ScoreCvae(this TransformsCatalog catalog, CvaeScorerEstimator.Options options)
        => new CvaeScorerEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Classifies images with a conditional VAE as a generative classifier: P(c | x) by Bayes' rule from the class-conditional
    /// ELBOs and the class priors; adds <c>Score</c> and <c>PredictedLabel</c> for <c>mlContext.MulticlassClassification.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model (its manifest names the decoder). Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// using var classifier = mlContext.Transforms.ClassifyCvae("models-onnx/cvae-fashion-encoder.onnx").Fit(images);
    /// var metrics = mlContext.MulticlassClassification.Evaluate(classifier.Transform(images), "LabelKey");
    /// </code></example>
    public static CvaeClassifierEstimator ClassifyCvae(this TransformsCatalog catalog, string modelFile, string inputColumnName = CvaeClassifierEstimator.Defaults.InputColumnName)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ClassifyCvae(catalog, new CvaeClassifierEstimator.Options { ModelFile = modelFile, InputColumnName = inputColumnName });
    }

    /// <summary>Classifies images with a conditional VAE as a generative classifier, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Graphs, manifest, columns, class priors, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">A model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A graph does not match its manifest, the graphs do not fit together, or there are no priors.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, such as priors of the wrong count or not positive.</exception>
    public static CvaeClassifierEstimator ClassifyCvae(this TransformsCatalog catalog, CvaeClassifierEstimator.Options options)
        => new CvaeClassifierEstimator(Environment(catalog, options), options);
}
