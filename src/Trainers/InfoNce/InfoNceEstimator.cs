using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.InfoNce;

/// <summary>
/// Trains two projection heads with the symmetric InfoNCE loss (CLIP's), so that paired rows of two vector columns land close together
/// on the unit sphere. Create it with <see cref="MlNotesTrainersCatalog.InfoNce(TransformsCatalog, string, string, int)"/>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | Yes |
/// | Input column data type | Two vectors of Single (any sizes; a variable-size column must have the same length in every row); optional group column (Text, Int32, Int64, UInt32, Single or a key) |
/// | Output column data type | Two known-size vectors of Single (L2-normalized embeddings) and a Single (cosine similarity) |
/// | Exportable to ONNX | No |
///
/// Each batch's logits are s zA zB^T, with s = e^t learned as a log (initialised to 1 / 0.07, clamped so s never exceeds `MaximumLogitScale`);
/// the loss is (loss A->B + loss B->A) / 2 over in-batch negatives, or over the rows of the same group only when `GroupColumnName` is set
/// (rows of a group whose other rows are its negatives, as when matching the time steps of one clip). Rows of a group of one are skipped
/// and counted. With a validation set, training keeps the epoch of best recall@1. Results depend only on the seed.
/// ]]></format>
/// </remarks>
public sealed class InfoNceEstimator : IEstimator<InfoNceTransformer>
{
    private readonly IHost _host;
    private readonly Options _options;

    internal InfoNceEstimator(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(InfoNceEstimator));
        _options = Validate(options.Clone());
    }

    /// <summary>Trains the heads on <paramref name="input"/>.</summary>
    /// <param name="input">Pairs of vectors.</param>
    /// <returns>The transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or mistyped, rows differ in length, or a value is NaN or infinite.</exception>
    /// <exception cref="InvalidOperationException">The training set is empty or has no batch of two or more pairs.</exception>
    public InfoNceTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains the heads on <paramref name="trainData"/>, keeping the epoch with the best recall@1 on <paramref name="validationData"/>.</summary>
    /// <param name="trainData">Pairs of vectors to train on.</param>
    /// <param name="validationData">Pairs to watch (null: none).</param>
    /// <returns>The transformer.</returns>
    public InfoNceTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        using var ch = _host.Start(nameof(InfoNceEstimator));
        int sizeA = InfoNceDataLoader.Size(trainData, _options.ColumnNameA);
        int sizeB = InfoNceDataLoader.Size(trainData, _options.ColumnNameB);
        if (sizeA == 0 || sizeB == 0)
        {
            ThrowHelper.InvalidOperation("The training set is empty: InfoNCE needs pairs of rows to train on.");
        }

        var train = InfoNceDataLoader.Read(trainData, _options.ColumnNameA, _options.ColumnNameB, _options.GroupColumnName, sizeA, sizeB, out long singletons);
        if (train.Rows == 0)
        {
            ThrowHelper.InvalidOperation("The training set is empty: InfoNCE needs pairs of rows to train on.");
        }

        if (singletons > 0)
        {
            ch.Warning($"InfoNCE: skipped {singletons} rows alone in their group '{_options.GroupColumnName}' (no negatives).");
        }

        var random = new SplitMix64((ulong)(uint)(_options.Seed ?? _host.Rand.Next()));
        InfoNceDataSet? validation = null;
        if (validationData != null)
        {
            validation = InfoNceDataLoader.Read(validationData, _options.ColumnNameA, _options.ColumnNameB, null, sizeA, sizeB, out _);
        }
        else if (_options.ValidationFraction > 0)
        {
            (train, validation) = Split(train, sizeA, sizeB, _options.ValidationFraction, ref random);
        }

        var network = new InfoNceNetwork<float>(sizeA, sizeB, _options.HiddenLayerSizes, _options.EmbeddingSize, _options.Activation);
        var parameters = new float[network.ParameterCount];
        network.Initialize(parameters, ref random, Math.Log(1 / _options.InitialTemperature));
        var schedule = new InfoNceSchedule(_options.NumberOfEpochs, _options.BatchSize, _options.LearningRate, Math.Log(_options.MaximumLogitScale),
            _options.LearnTemperature, _options.EarlyStoppingPatience, (_options.NumberOfThreads ?? Environment.ProcessorCount) > 1, random.NextUInt64());
        ch.Info($"InfoNCE: {train.Rows} pairs, A {sizeA} -> {_options.EmbeddingSize}, B {sizeB} -> {_options.EmbeddingSize}, {network.ParameterCount} parameters.");
        new InfoNceOptimizer(network, schedule).Train(parameters, train, validation, e => ch.Info(e.ValidationRecallAt1 is double r
            ? $"InfoNCE epoch {e.Epoch}: loss {e.Loss:F5}, logit scale {e.LogitScale:F3}, validation recall@1 {r:F4} ({e.Seconds:F2} s)"
            : $"InfoNCE epoch {e.Epoch}: loss {e.Loss:F5}, logit scale {e.LogitScale:F3} ({e.Seconds:F2} s)"));
        return new InfoNceTransformer(_host, _options, network, parameters);
    }

    /// <summary>The input schema plus the two embeddings and the similarity.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Column A or B is missing or not a vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (string name in new[] { _options.ColumnNameA, _options.ColumnNameB })
        {
            if (!inputSchema.TryFindColumn(name, out var column))
            {
                ThrowHelper.MissingColumn(nameof(inputSchema), name);
            }

            if (column.Kind == SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
            {
                ThrowHelper.SchemaMismatch(nameof(inputSchema), name, "a vector of Single", column.GetTypeString());
            }
        }

        var vector = SchemaShape.Column.VectorKind.Vector;
        columns[_options.OutputColumnNameA] = new SchemaShape.Column(_options.OutputColumnNameA, vector, NumberDataViewType.Single, false);
        columns[_options.OutputColumnNameB] = new SchemaShape.Column(_options.OutputColumnNameB, vector, NumberDataViewType.Single, false);
        columns[_options.SimilarityColumnName] = new SchemaShape.Column(_options.SimilarityColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }

    private static (InfoNceDataSet Train, InfoNceDataSet Validation) Split(InfoNceDataSet data, int sizeA, int sizeB, double fraction, ref SplitMix64 random)
    {
        var order = Enumerable.Range(0, data.Rows).ToArray();
        random.Shuffle(order);
        int held = (int)Math.Round(fraction * data.Rows);
        if (held < 2 || data.Rows - held < 2)
        {
            ThrowHelper.InvalidOperation($"ValidationFraction {fraction} of {data.Rows} rows leaves too few training or validation rows.");
        }

        return (Take(order.AsSpan(held)), Take(order.AsSpan(0, held)));

        InfoNceDataSet Take(ReadOnlySpan<int> rows)
        {
            var a = new float[rows.Length * sizeA];
            var b = new float[rows.Length * sizeB];
            var groups = data.Groups == null ? null : new int[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                data.A.AsSpan(rows[i] * sizeA, sizeA).CopyTo(a.AsSpan(i * sizeA));
                data.B.AsSpan(rows[i] * sizeB, sizeB).CopyTo(b.AsSpan(i * sizeB));
                if (groups != null)
                {
                    groups[i] = data.Groups![rows[i]];
                }
            }

            return new InfoNceDataSet(a, b, groups, rows.Length);
        }
    }

    private static Options Validate(Options options)
    {
        foreach (var (name, value) in new[]
        {
            (nameof(Options.ColumnNameA), options.ColumnNameA), (nameof(Options.ColumnNameB), options.ColumnNameB),
            (nameof(Options.OutputColumnNameA), options.OutputColumnNameA), (nameof(Options.OutputColumnNameB), options.OutputColumnNameB),
            (nameof(Options.SimilarityColumnName), options.SimilarityColumnName),
        })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                ThrowHelper.BadOption(name, $"{name} must name a column.");
            }
        }

        ThrowHelper.CheckOption(options.BatchSize >= 2, nameof(Options.BatchSize), $"BatchSize must be at least 2, got {options.BatchSize}: InfoNCE needs other rows of the batch as negatives.");
        ThrowHelper.CheckOption(options.EmbeddingSize >= 1, nameof(Options.EmbeddingSize), $"EmbeddingSize must be at least 1, got {options.EmbeddingSize}.");
        ThrowHelper.CheckOption(options.HiddenLayerSizes != null && options.HiddenLayerSizes.All(s => s >= 1), nameof(Options.HiddenLayerSizes), "Every hidden layer needs at least one unit (an empty list gives linear heads).");
        ThrowHelper.CheckOption(Enum.IsDefined(options.Activation), nameof(Options.Activation), $"Unknown activation {options.Activation}.");
        ThrowHelper.CheckOption(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(Options.LearningRate), $"LearningRate must be positive, got {options.LearningRate}.");
        ThrowHelper.CheckOption(options.NumberOfEpochs >= 1, nameof(Options.NumberOfEpochs), $"NumberOfEpochs must be at least 1, got {options.NumberOfEpochs}.");
        ThrowHelper.CheckOption(options.MaximumLogitScale >= 1 && double.IsFinite(options.MaximumLogitScale), nameof(Options.MaximumLogitScale), $"MaximumLogitScale must be at least 1, got {options.MaximumLogitScale}.");
        ThrowHelper.CheckOption(options.InitialTemperature > 0 && 1 / options.InitialTemperature <= options.MaximumLogitScale && 1 / options.InitialTemperature >= 1, nameof(Options.InitialTemperature),
            $"InitialTemperature must be in [1 / MaximumLogitScale, 1] = [{1 / options.MaximumLogitScale}, 1], got {options.InitialTemperature}.");
        ThrowHelper.CheckOption(options.EarlyStoppingPatience >= 0, nameof(Options.EarlyStoppingPatience), $"EarlyStoppingPatience must be at least 0, got {options.EarlyStoppingPatience}.");
        ThrowHelper.CheckOption(options.ValidationFraction is >= 0 and < 1, nameof(Options.ValidationFraction), $"ValidationFraction must be in [0, 1), got {options.ValidationFraction}.");
        ThrowHelper.CheckOption(options.NumberOfThreads is null or >= 1, nameof(Options.NumberOfThreads), $"NumberOfThreads must be at least 1, got {options.NumberOfThreads}.");
        return options;
    }

    /// <summary>Options of <see cref="InfoNceEstimator"/>; validated when the estimator is created and copied.</summary>
    public sealed class Options
    {
        /// <summary>Column A: a vector of Single.</summary>
        public string ColumnNameA { get; set; } = "A";

        /// <summary>Column B: a vector of Single.</summary>
        public string ColumnNameB { get; set; } = "B";

        /// <summary>The embedding of A.</summary>
        public string OutputColumnNameA { get; set; } = Defaults.OutputColumnNameA;

        /// <summary>The embedding of B.</summary>
        public string OutputColumnNameB { get; set; } = Defaults.OutputColumnNameB;

        /// <summary>The cosine similarity of the two embeddings.</summary>
        public string SimilarityColumnName { get; set; } = Defaults.SimilarityColumnName;

        /// <summary>Optional: negatives come only from rows of the same group.</summary>
        public string? GroupColumnName { get; set; }

        /// <summary>Hidden layers of each head; empty for linear heads.</summary>
        public int[] HiddenLayerSizes { get; set; } = Array.Empty<int>();

        /// <summary>The hidden layers' nonlinearity.</summary>
        public Activation Activation { get; set; } = Activation.Relu;

        /// <summary>Size of the projected embeddings.</summary>
        public int EmbeddingSize { get; set; } = Defaults.EmbeddingSize;

        /// <summary>Initial temperature; the logit scale starts at its inverse.</summary>
        public double InitialTemperature { get; set; } = Defaults.InitialTemperature;

        /// <summary>The largest logit scale (1 / temperature); the learned log scale is clamped to [0, log of this].</summary>
        public double MaximumLogitScale { get; set; } = Defaults.MaximumLogitScale;

        /// <summary>Whether the temperature is learned (true) or stays at <see cref="InitialTemperature"/>.</summary>
        public bool LearnTemperature { get; set; } = true;

        /// <summary>Adam's step size.</summary>
        public double LearningRate { get; set; } = Defaults.LearningRate;

        /// <summary>Pairs per batch: each row's negatives are the other rows of its batch (at least 2).</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;

        /// <summary>Passes over the training pairs.</summary>
        public int NumberOfEpochs { get; set; } = Defaults.NumberOfEpochs;

        /// <summary>With a validation set: stop after this many epochs without a better recall@1 (0: never).</summary>
        public int EarlyStoppingPatience { get; set; } = Defaults.EarlyStoppingPatience;

        /// <summary>Fraction of training pairs held out for early stopping when no validation set is given.</summary>
        public double ValidationFraction { get; set; }

        /// <summary>Seed of the initial weights and shuffles; null draws one from the MLContext's seed.</summary>
        public int? Seed { get; set; }

        /// <summary>Threads (1: sequential; more: the two heads run in parallel). Null: one per processor.</summary>
        public int? NumberOfThreads { get; set; }

        internal Options Clone()
        {
            var copy = (Options)MemberwiseClone();
            copy.HiddenLayerSizes = HiddenLayerSizes?.ToArray()!;
            return copy;
        }
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>"EmbeddingA".</summary>
        public const string OutputColumnNameA = "EmbeddingA";

        /// <summary>"EmbeddingB".</summary>
        public const string OutputColumnNameB = "EmbeddingB";

        /// <summary>"Similarity".</summary>
        public const string SimilarityColumnName = "Similarity";

        /// <summary>64.</summary>
        public const int EmbeddingSize = 64;

        /// <summary>0.07, as CLIP.</summary>
        public const double InitialTemperature = 0.07;

        /// <summary>100, as CLIP.</summary>
        public const double MaximumLogitScale = 100;

        /// <summary>1e-3.</summary>
        public const double LearningRate = 1e-3;

        /// <summary>256 pairs.</summary>
        public const int BatchSize = 256;

        /// <summary>20 epochs.</summary>
        public const int NumberOfEpochs = 20;

        /// <summary>5 epochs.</summary>
        public const int EarlyStoppingPatience = 5;
    }
}
