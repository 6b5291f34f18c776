using System;
using Microsoft.ML.Data;
using MlNotes.Trainers.InfoNce;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Vq;

namespace Microsoft.ML;

/// <summary>MlNotes' native trainers on <c>mlContext.Regression.Trainers</c>, <c>mlContext.Clustering.Trainers</c> and <c>mlContext.Transforms</c>.</summary>
public static class MlNotesTrainersCatalog
{
    /// <summary>
    /// A mixture density network: predicts a mixture of <paramref name="numberOfComponents"/> Gaussians over the label, with <c>Score</c>
    /// (the mixture mean), the mode, the predictive standard deviation, a central prediction interval and the mixture itself.
    /// </summary>
    /// <param name="catalog">The regression trainers.</param>
    /// <param name="labelColumnName">The label: Single, or a known-size vector of Single.</param>
    /// <param name="featureColumnName">The features: a known-size vector of Single (normalize them).</param>
    /// <param name="numberOfComponents">K, the number of Gaussian components.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <example><code>
    /// var pipeline = ml.Transforms.Concatenate("Features", "X")
    ///     .Append(ml.Regression.Trainers.MixtureDensityNetwork("Label", "Features", numberOfComponents: 3));
    /// var model = pipeline.Fit(train);
    /// var metrics = ml.Regression.EvaluateMdn(model.Transform(test));
    /// </code></example>
    public static MdnTrainer MixtureDensityNetwork(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features,
        int numberOfComponents = MdnTrainer.Defaults.NumberOfComponents)
        => MixtureDensityNetwork(catalog, new MdnTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            NumberOfComponents = numberOfComponents,
        });

    /// <summary>A mixture density network, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The regression trainers.</param>
    /// <param name="options">Columns, architecture, prior, schedule, early stopping, seed and threads.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static MdnTrainer MixtureDensityNetwork(this RegressionCatalog.RegressionTrainers catalog, MdnTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new MdnTrainer(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Scores predicted distributions against the labels: mean negative log-likelihood, CRPS, coverage of the central interval and a PIT
    /// calibration summary. Reads the label and the <c>MixtureWeights</c>, <c>MixtureMeans</c> and <c>MixtureStandardDeviations</c> columns
    /// of an MDN's output. The likelihood is computed from the <c>MixtureLogWeights</c> column (<see cref="MdnColumnNames.MixtureLogWeights"/>)
    /// when the data has one, as an MDN's output does (also of models saved before the column existed), so it stays finite wherever
    /// training's log-softmax does. Without that column it takes log(weight) of <c>MixtureWeights</c>: a component whose Single weight
    /// underflowed to 0 (log-weight below about -103) then drops out of the likelihood, overstating the negative log-likelihood of labels
    /// that lie under it. <c>mlContext.Regression.Evaluate</c> still gives the point metrics of <c>Score</c>.
    /// </summary>
    /// <param name="catalog">The regression catalog.</param>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">The label: Single, or a vector of Single.</param>
    /// <param name="intervalCoverage">Coverage of the central intervals whose hit rate is measured.</param>
    /// <param name="pitBins">Bins of the PIT histogram.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or mistyped, or an argument is out of range.</exception>
    /// <exception cref="InvalidOperationException">No row has a label.</exception>
    public static MdnMetrics EvaluateMdn(this RegressionCatalog catalog, IDataView data, string labelColumnName = DefaultColumnNames.Label,
        double intervalCoverage = MdnTrainer.Defaults.IntervalCoverage, int pitBins = 10)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labelColumnName);
        return MdnEvaluator.Evaluate(data, labelColumnName, intervalCoverage, pitBins);
    }

    /// <summary>Adds <paramref name="numberOfSamples"/> draws per row from the mixture an MDN predicted for it.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The column of samples: a vector of S x D values, sample-major.</param>
    /// <param name="numberOfSamples">S, the draws per row.</param>
    /// <param name="seed">Seed of the draws (combined with each row's <c>DataViewRowId</c>, so results are reproducible and shards draw
    /// what a full run draws).</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static MdnSamplingEstimator SampleFromMixture(this TransformsCatalog catalog, string outputColumnName = MdnSamplingEstimator.Defaults.OutputColumnName,
        int numberOfSamples = MdnSamplingEstimator.Defaults.NumberOfSamples, int seed = 0)
        => SampleFromMixture(catalog, new MdnSamplingEstimator.Options { OutputColumnName = outputColumnName, NumberOfSamples = numberOfSamples, Seed = seed });

    /// <summary>Adds draws per row from the mixture an MDN predicted for it, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Output column, draws per row, seed and the mixture columns.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static MdnSamplingEstimator SampleFromMixture(this TransformsCatalog catalog, MdnSamplingEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new MdnSamplingEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Trains two projection heads with the symmetric InfoNCE loss on paired vector columns; the transformer adds their L2-normalized
    /// embeddings (<c>EmbeddingA</c>, <c>EmbeddingB</c>) and their cosine <c>Similarity</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columnNameA">Column A: a vector of Single.</param>
    /// <param name="columnNameB">Column B: a vector of Single.</param>
    /// <param name="embeddingSize">Size of the projected embeddings.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static InfoNceEstimator InfoNce(this TransformsCatalog catalog, string columnNameA, string columnNameB, int embeddingSize = InfoNceEstimator.Defaults.EmbeddingSize)
        => InfoNce(catalog, new InfoNceEstimator.Options { ColumnNameA = columnNameA, ColumnNameB = columnNameB, EmbeddingSize = embeddingSize });

    /// <summary>Trains two projection heads with the symmetric InfoNCE loss, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Columns, heads, temperature, schedule, groups, early stopping and seed.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static InfoNceEstimator InfoNce(this TransformsCatalog catalog, InfoNceEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new InfoNceEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Retrieval quality of paired embeddings in both directions: recall@1, @5, @10, mean reciprocal rank and mean rank, every row's partner
    /// ranked by cosine similarity among all rows of <paramref name="data"/>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="data">Data with two columns of L2-normalized embeddings, for example the output of <see cref="InfoNceTransformer"/>.</param>
    /// <param name="embeddingColumnNameA">The embeddings of A.</param>
    /// <param name="embeddingColumnNameB">The embeddings of B.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or mistyped.</exception>
    /// <exception cref="InvalidOperationException">The data is empty.</exception>
    public static RetrievalMetrics EvaluateRetrieval(this TransformsCatalog catalog, IDataView data,
        string embeddingColumnNameA = InfoNceEstimator.Defaults.OutputColumnNameA, string embeddingColumnNameB = InfoNceEstimator.Defaults.OutputColumnNameB)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        int size = InfoNceDataLoader.Size(data, embeddingColumnNameA);
        var pairs = InfoNceDataLoader.Read(data, embeddingColumnNameA, embeddingColumnNameB, null, size, size, out _);
        if (pairs.Rows == 0)
        {
            MlNotes.ThrowHelper.InvalidOperation("The data to evaluate is empty.");
        }

        var ab = new int[pairs.Rows];
        var ba = new int[pairs.Rows];
        Retrieval.Ranks(pairs.A, pairs.B, pairs.Rows, size, ab, ba);
        var x = Retrieval.Summarize(ab);
        var y = Retrieval.Summarize(ba);
        return new RetrievalMetrics(new[] { x.At1, x.At5, x.At10, x.Mrr, x.MeanRank }, new[] { y.At1, y.At5, y.At10, y.Mrr, y.MeanRank }, pairs.Rows);
    }

    /// <summary>
    /// A vector quantizer: a codebook of <paramref name="codebookSize"/> codes trained by VQ-VAE's moving-average update with dead-code
    /// re-initialization; a clustering model whose <c>Score</c> holds the squared distances to the codes and <c>PredictedLabel</c> the nearest.
    /// </summary>
    /// <param name="catalog">The clustering trainers.</param>
    /// <param name="featureColumnName">The vectors: a known-size vector of Single.</param>
    /// <param name="codebookSize">K, the number of codes.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <example><code>
    /// var model = ml.Clustering.Trainers.VectorQuantizer("Features", codebookSize: 64).Fit(train);
    /// var usage = ml.Clustering.EvaluateCodebook(model.Transform(test));
    /// </code></example>
    public static VectorQuantizerTrainer VectorQuantizer(this ClusteringCatalog.ClusteringTrainers catalog,
        string featureColumnName = DefaultColumnNames.Features, int codebookSize = VectorQuantizerTrainer.Defaults.CodebookSize)
        => VectorQuantizer(catalog, new VectorQuantizerTrainer.Options { FeatureColumnName = featureColumnName, CodebookSize = codebookSize });

    /// <summary>A vector quantizer, as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The clustering trainers.</param>
    /// <param name="options">Column, codebook size, decay, dead-code threshold, batches, epochs, seed and threads.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static VectorQuantizerTrainer VectorQuantizer(this ClusteringCatalog.ClusteringTrainers catalog, VectorQuantizerTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new VectorQuantizerTrainer(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// How the codes of a clustering model (a vector quantizer's, or KMeans') are used on scored data: the count per code, the share of codes
    /// used and the perplexity, from the key column of nearest codes.
    /// </summary>
    /// <param name="catalog">The clustering catalog.</param>
    /// <param name="data">Scored data.</param>
    /// <param name="predictedLabelColumnName">The nearest code: a key column whose key count is the codebook size.</param>
    /// <returns>The usage.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or is not a key with a known count.</exception>
    public static CodebookUsageMetrics EvaluateCodebook(this ClusteringCatalog catalog, IDataView data, string predictedLabelColumnName = DefaultColumnNames.PredictedLabel)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(predictedLabelColumnName);
        var column = data.Schema.GetColumnOrNull(predictedLabelColumnName)
            ?? MlNotes.ThrowHelper.MissingColumn<DataViewSchema.Column>(nameof(predictedLabelColumnName), predictedLabelColumnName);
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint) || key.Count is 0 or > int.MaxValue)
        {
            MlNotes.ThrowHelper.SchemaMismatch(nameof(predictedLabelColumnName), predictedLabelColumnName, "a UInt32 key of known count", $"{column.Type}");
            return null!;
        }

        var counts = new long[(int)key.Count];
        using var cursor = data.GetRowCursor(new[] { column });
        var get = cursor.GetGetter<uint>(column);
        uint value = 0;
        while (cursor.MoveNext())
        {
            get(ref value);
            if (value > 0)
            {
                counts[value - 1]++;
            }
        }

        return new CodebookUsageMetrics(counts);
    }
}
