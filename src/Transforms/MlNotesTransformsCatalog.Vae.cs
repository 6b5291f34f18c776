using System;
using MlNotes.Transforms.Vae;

namespace Microsoft.ML;

/// <summary>MlNotes' VAE transforms on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Encodes images with a VAE's ONNX encoder (its manifest is the .json beside it): adds <c>LatentMean</c>,
    /// <c>LatentLogVariance</c> and <c>Latent</c> = mean + exp(logvar / 2) * eps, with eps seeded per row.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c> from <c>LoadImages</c>, or a Single vector of preprocessed pixels.</param>
    /// <param name="seed">The seed of eps; null for the <c>MLContext</c>'s seed.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", folder, "ImagePath")
    ///     .Append(mlContext.Transforms.EncodeVae("models-onnx/vae-fashion-encoder.onnx"));
    /// </code></example>
    public static VaeEncoderEstimator EncodeVae(this TransformsCatalog catalog, string modelFile,
        string inputColumnName = VaeEncoderEstimator.Defaults.InputColumnName, int? seed = null, int batchSize = VaeEncoderEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return EncodeVae(catalog, new VaeEncoderEstimator.Options { ModelFile = modelFile, InputColumnName = inputColumnName, Seed = seed, BatchSize = batchSize });
    }

    /// <summary>Encodes images with a VAE's ONNX encoder, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, samples, seed, noise, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest or is not a VAE encoder.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static VaeEncoderEstimator EncodeVae(this TransformsCatalog catalog, VaeEncoderEstimator.Options options)
        => new VaeEncoderEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Decodes a latent column with a VAE's ONNX decoder into <c>Reconstruction</c>: per-pixel Bernoulli probabilities with
    /// the image's shape. The transformer also samples from the prior and interpolates without input rows.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the decoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The reconstruction column.</param>
    /// <param name="inputColumnName">The latent column: a Single vector of the decoder's latent size.</param>
    /// <param name="batchSize">Latent vectors per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.EncodeVae(encoderFile)
    ///     .Append(mlContext.Transforms.DecodeVae(decoderFile, inputColumnName: "LatentMean"));
    /// </code></example>
    public static VaeDecoderEstimator DecodeVae(this TransformsCatalog catalog, string modelFile,
        string outputColumnName = VaeDecoderEstimator.Defaults.OutputColumnName, string inputColumnName = VaeDecoderEstimator.Defaults.InputColumnName,
        int batchSize = VaeDecoderEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return DecodeVae(catalog, new VaeDecoderEstimator.Options { ModelFile = modelFile, OutputColumnName = outputColumnName, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    /// <summary>Decodes a latent column with a VAE's ONNX decoder, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest or is not a VAE decoder.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The manifest's likelihood is not Bernoulli logits.</exception>
    public static VaeDecoderEstimator DecodeVae(this TransformsCatalog catalog, VaeDecoderEstimator.Options options)
        => new VaeDecoderEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Scores images with a VAE (the encoder, and the decoder its manifest names): adds <c>ReconstructionLogLikelihood</c>,
    /// <c>KlDivergence</c>, <c>Elbo</c> and, with <paramref name="importanceSamples"/> above 0, <c>LogLikelihood</c>, in nats.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c> from <c>LoadImages</c>, or a Single vector of preprocessed pixels.</param>
    /// <param name="importanceSamples">K of the importance-sampled log p(x); 0 for none.</param>
    /// <param name="useLatentMean">eps = 0: deterministic scores at the posterior mean.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    public static VaeScorerEstimator ScoreVae(this TransformsCatalog catalog, string modelFile,
        string inputColumnName = VaeScorerEstimator.Defaults.InputColumnName, int importanceSamples = 0, bool useLatentMean = false,
        int batchSize = VaeScorerEstimator.Defaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ScoreVae(catalog, new VaeScorerEstimator.Options
        {
            ModelFile = modelFile,
            InputColumnName = inputColumnName,
            ImportanceSamples = importanceSamples,
            UseLatentMean = useLatentMean,
            BatchSize = batchSize,
        });
    }

    /// <summary>Scores images with a VAE, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Graphs, manifest, columns, importance samples, seed, noise, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">A model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A graph does not match its manifest, or the encoder and decoder do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">The manifest's likelihood is not Bernoulli logits.</exception>
    public static VaeScorerEstimator ScoreVae(this TransformsCatalog catalog, VaeScorerEstimator.Options options)
        => new VaeScorerEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Detects anomalies with a VAE: <c>Fit</c> sets the threshold at <paramref name="thresholdPercentile"/> of the training
    /// rows' -ELBO; the transformer adds <c>Score</c> and <c>PredictedLabel</c> for <c>mlContext.AnomalyDetection.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model (its manifest names the decoder). Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column.</param>
    /// <param name="thresholdPercentile">The percentile of training scores above which a row is an anomaly, in (0, 100).</param>
    /// <param name="useLatentMean">eps = 0: deterministic scores at the posterior mean.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// using var detector = mlContext.Transforms.DetectAnomaliesVae(encoderFile).Fit(normalImages);
    /// var metrics = mlContext.AnomalyDetection.Evaluate(detector.Transform(test), "IsAnomaly");
    /// </code></example>
    public static VaeAnomalyDetectorEstimator DetectAnomaliesVae(this TransformsCatalog catalog, string modelFile,
        string inputColumnName = VaeAnomalyDetectorEstimator.Defaults.InputColumnName,
        double thresholdPercentile = VaeAnomalyDetectorEstimator.Defaults.ThresholdPercentile, bool useLatentMean = false)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return DetectAnomaliesVae(catalog, new VaeAnomalyDetectorEstimator.Options
        {
            ModelFile = modelFile,
            InputColumnName = inputColumnName,
            ThresholdPercentile = thresholdPercentile,
            UseLatentMean = useLatentMean,
        });
    }

    /// <summary>Detects anomalies with a VAE, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Graphs, manifest, columns, threshold percentile, importance samples, seed, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">A model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A graph does not match its manifest, or the encoder and decoder do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, such as a threshold percentile outside (0, 100).</exception>
    public static VaeAnomalyDetectorEstimator DetectAnomaliesVae(this TransformsCatalog catalog, VaeAnomalyDetectorEstimator.Options options)
        => new VaeAnomalyDetectorEstimator(Environment(catalog, options), options);
}
