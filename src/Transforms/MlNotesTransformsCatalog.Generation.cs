using System;
using MlNotes.Transforms.Generation;

namespace Microsoft.ML;

/// <summary>MlNotes' sequence generation on <c>mlContext.Transforms</c>.</summary>
public static partial class MlNotesTransformsCatalog
{
    /// <summary>
    /// Generates a sequence for each text with an encoder-decoder Transformer in ONNX (an encoder graph and a decoder step graph
    /// with a key/value cache, named by a <c>seq2seq-generator</c> manifest), or continues each text as a prompt with a
    /// decoder-only graph (a <c>decoder-generator</c> manifest): adds <c>GeneratedText</c>, <c>GeneratedTokens</c>,
    /// <c>Score</c> and <c>Finished</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="manifestFile">The generator's manifest; the graphs it names are read beside it. Apply models only from trusted sources.</param>
    /// <param name="inputColumnName">The text column (String), or a column of token ids (vector of Int32 or Int64).</param>
    /// <param name="strategy">Greedy (the default), beam search (the manifest's width and length penalty) or sampling (temperature 1, the <c>MLContext</c>'s seed).</param>
    /// <param name="maxNewTokens">Generated tokens per row at most, end-of-sequence included; 0 takes the manifest's.</param>
    /// <returns>The estimator; its transformer holds two native sessions and is <see cref="IDisposable"/>.</returns>
    /// <example><code>
    /// var g2p = mlContext.Transforms.GenerateSequenceOnnx("models-onnx/g2p-cmudict.json", "Word", GenerationStrategy.Beam);
    /// </code></example>
    public static SequenceGeneratorEstimator GenerateSequenceOnnx(this TransformsCatalog catalog, string manifestFile,
        string inputColumnName = "Text", GenerationStrategy strategy = GenerationStrategy.Greedy, int maxNewTokens = 0)
    {
        ArgumentNullException.ThrowIfNull(manifestFile);
        return GenerateSequenceOnnx(catalog, new SequenceGeneratorEstimator.Options
        {
            ManifestFile = manifestFile,
            InputColumnName = inputColumnName,
            Strategy = strategy,
            MaxNewTokens = maxNewTokens,
        });
    }

    /// <summary>Generates a sequence for each text, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Manifest and graphs, columns, strategy (beam width, length penalty, n-best; temperature, top-k, top-p, seed), maximum length, cache, batching, execution provider.</param>
    /// <returns>The estimator; its transformer holds two native sessions and is <see cref="IDisposable"/>.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The manifest or a graph file does not exist.</exception>
    /// <exception cref="NotSupportedException">The manifest has a field or value MlNotes does not read, or a graph lacks a tensor the manifest implies.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or does not belong to the strategy.</exception>
    public static SequenceGeneratorEstimator GenerateSequenceOnnx(this TransformsCatalog catalog, SequenceGeneratorEstimator.Options options)
        => new SequenceGeneratorEstimator(Environment(catalog, options), options);
}
