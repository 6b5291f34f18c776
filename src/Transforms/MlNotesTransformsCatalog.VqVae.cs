using System;
using MlNotes.Transforms.VqVae;

namespace Microsoft.ML;

/// <summary>MlNotes' VQ-VAE transforms on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Encodes images with a VQ-VAE's ONNX encoder and quantizes each latent vector to the nearest code of the manifest's codebook
    /// (the .json beside the graph): adds <c>Codes</c>, a key vector with one key per grid position (the image's tokens).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The codes column.</param>
    /// <param name="inputColumnName">The image column: <c>MLImage</c> from <c>LoadImages</c>, or a Single vector of preprocessed pixels.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var tokens = mlContext.Transforms.LoadImages("Image", folder, "ImagePath")
    ///     .Append(mlContext.Transforms.EncodeVqVae("models-onnx/vqvae-fashion-encoder.onnx"));
    /// </code></example>
    public static VqVaeEncoderEstimator EncodeVqVae(this TransformsCatalog catalog, string modelFile, string outputColumnName = "Codes",
        string inputColumnName = "Image", int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return EncodeVqVae(catalog, new VqVaeEncoderEstimator.Options { ModelFile = modelFile, CodesColumnName = outputColumnName, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    /// <summary>Encodes images with a VQ-VAE's ONNX encoder into codes (and code vectors), as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, or the manifest has no codebook.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static VqVaeEncoderEstimator EncodeVqVae(this TransformsCatalog catalog, VqVaeEncoderEstimator.Options options)
        => new VqVaeEncoderEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Decodes a VQ-VAE's codes (a key vector, one key per grid position) through the manifest's codebook and the ONNX decoder
    /// into <c>Reconstruction</c>: pixels in [0, 1] with the image's shape.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the decoder's ONNX model. Apply models only from trusted sources.</param>
    /// <param name="outputColumnName">The reconstruction column.</param>
    /// <param name="inputColumnName">The codes column.</param>
    /// <param name="batchSize">Rows per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.EncodeVqVae(encoderFile).Append(mlContext.Transforms.DecodeVqVae(decoderFile));
    /// </code></example>
    public static VqVaeDecoderEstimator DecodeVqVae(this TransformsCatalog catalog, string modelFile, string outputColumnName = "Reconstruction",
        string inputColumnName = "Codes", int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return DecodeVqVae(catalog, new VqVaeDecoderEstimator.Options { ModelFile = modelFile, OutputColumnName = outputColumnName, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    /// <summary>Decodes a VQ-VAE's codes into images, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Model, manifest, columns, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds a native session and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The graph does not match its manifest, or the manifest has no codebook.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static VqVaeDecoderEstimator DecodeVqVae(this TransformsCatalog catalog, VqVaeDecoderEstimator.Options options)
        => new VqVaeDecoderEstimator(Environment(catalog, options), options);

    /// <summary>
    /// Passes images through a VQ-VAE (the encoder, its nearest codes, and the decoder its manifest names): adds <c>Codes</c>,
    /// <c>Reconstruction</c> and <c>ReconstructionError</c>, the per-row mean squared error over the pixels in [0, 1].
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path of the encoder's ONNX model (its manifest names the decoder). Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The image column.</param>
    /// <param name="batchSize">Images per ONNX Runtime run.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// using var model = mlContext.Transforms.ReconstructVqVae(encoderFile).Fit(images);
    /// var errors = model.Transform(images).GetColumn&lt;float&gt;("ReconstructionError");
    /// </code></example>
    public static VqVaeReconstructorEstimator ReconstructVqVae(this TransformsCatalog catalog, string modelFile, string inputColumnName = "Image", int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        return ReconstructVqVae(catalog, new VqVaeReconstructorEstimator.Options { ModelFile = modelFile, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    /// <summary>Passes images through a VQ-VAE, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Graphs, manifest, columns, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">A model or manifest file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A graph does not match its manifest, or the encoder and decoder do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static VqVaeReconstructorEstimator ReconstructVqVae(this TransformsCatalog catalog, VqVaeReconstructorEstimator.Options options)
        => new VqVaeReconstructorEstimator(Environment(catalog, options), options);
}
