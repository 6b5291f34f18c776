using System;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Vq;

/// <summary>
/// Trains a codebook of K vectors on a vector column by the VQ-VAE's exponential-moving-average update (gradient-free): mini-batches,
/// each vector to its nearest code, each code to the moving average of its vectors, and dead codes re-initialized from vectors of the
/// current batch. Create it with
/// <see cref="MlNotesTrainersCatalog.VectorQuantizer(ClusteringCatalog.ClusteringTrainers, string, int)"/>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Machine learning task | Clustering (vector quantization) |
/// | Is normalization required? | No: distances are Euclidean in the vectors' own units (normalize if the slots' scales differ and should not) |
/// | Is caching required? | No: the training vectors are read into memory once |
/// | Required NuGet in addition to Microsoft.ML | None (MlNotes.Trainers) |
/// | Exportable to ONNX | No |
/// | Input column data type | Features: known-size vector of Single |
/// | Output column data type | `Score`: the K squared Euclidean distances (vector of Single); `PredictedLabel`: the nearest code, a key of K values |
///
/// The model is a clustering model like KMeans', so `mlContext.Clustering.Evaluate` reads its output; `mlContext.Clustering.EvaluateCodebook`
/// gives the codes' usage and perplexity on any scored data, and the model holds them for the training vectors.
/// Where KMeans runs Lloyd iterations over all rows, this trainer moves the codes after every mini-batch by a moving average with decay d:
/// N_k <- d N_k + (1 - d) n_k, m_k <- d m_k + (1 - d) s_k, code_k = m_k / N_k, as VQ-VAE trains its codebook, and revives a code whose
/// moving count falls below `DeadCodeThreshold` times the uniform count B / K by moving it onto a vector of the batch, drawn with probability
/// proportional to its squared distance from its code (where the codebook serves the batch worst).
/// Initial codes are K random training vectors; after the epochs, `RefinementPasses` Lloyd steps over all vectors remove the moving
/// averages' mini-batch noise. Results depend on the seed only (the thread count changes the speed, not the result).
/// NaN or infinite values fail, naming the column and the row.
///
/// Sample: `samples/MlNotes.Samples/Vq/VqVaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class VectorQuantizerTrainer : TrainerEstimatorBase<ClusteringPredictionTransformer<VectorQuantizerModelParameters>, VectorQuantizerModelParameters>
{
    private readonly Options _options;

    internal VectorQuantizerTrainer(IHostEnvironment env, Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(VectorQuantizerTrainer)),
            TrainerUtils.MakeR4VecFeature(Validate(options).FeatureColumnName), default)
    {
        _options = options.Clone();
    }

    /// <summary>Normalization: no; caching: no; validation set: no.</summary>
    public override TrainerInfo Info { get; } = new(normalization: false, caching: false);

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Clustering;

    /// <inheritdoc/>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema) => new[]
    {
        new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
    };

    /// <inheritdoc/>
    protected override VectorQuantizerModelParameters TrainModelCore(TrainContext trainContext)
    {
        using var ch = Host.Start(nameof(VectorQuantizerTrainer));
        var train = trainContext.TrainingSet;
        var featureColumn = train.Schema.Feature!.Value;
        int d = featureColumn.Type.GetVectorSize();
        if (d <= 0 || featureColumn.Type.GetItemType() != NumberDataViewType.Single)
        {
            ThrowHelper.SchemaMismatch("input", featureColumn.Name, "a known-size vector of Single", $"{featureColumn.Type}");
        }

        var (data, rows) = VectorReader.Read(train.Data, featureColumn, d);
        if (rows == 0)
        {
            ThrowHelper.InvalidOperation($"The training set is empty: a vector quantizer needs at least one vector in column '{featureColumn.Name}'.");
        }

        int k = _options.CodebookSize;
        int batch = Math.Min(_options.BatchSize, rows);
        int threads = _options.NumberOfThreads ?? Environment.ProcessorCount;
        int seed = _options.Seed ?? Host.Rand.Next();
        var random = new SplitMix64((ulong)(uint)seed);
        var book = new EmaCodebook(k, d, threads);
        book.Initialize(data, rows, ref random, (double)batch / k);
        ch.Info($"Vector quantizer: {rows} vectors of {d} values, K = {k}, batches of {batch}, decay {_options.Decay}, {_options.NumberOfEpochs} epochs, {threads} threads.");

        var order = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            order[i] = i;
        }

        var batchRows = new int[batch];
        var assignment = new int[batch];
        var distances = new float[batch];
        var clock = Stopwatch.StartNew();
        long step = 0;
        for (int epoch = 1; epoch <= _options.NumberOfEpochs; epoch++)
        {
            random.Shuffle(order);
            double error = 0;
            int before = book.Reinitialized;
            // Full batches only, so every step weighs the same number of vectors; the shuffle reaches the rest in other epochs.
            int steps = rows / batch;
            for (int s = 0; s < steps; s++, step++)
            {
                Array.Copy(order, s * batch, batchRows, 0, batch);
                // The decay warms up as TensorFlow's ExponentialMovingAverage(num_updates) does: min(d, (1 + t) / (10 + t)), so that the
                // random initial codes do not weigh on the first hundreds of steps (a small set has only a few steps per epoch).
                double decay = Math.Min(_options.Decay, (1.0 + step) / (10.0 + step));
                error += book.Step(data, batchRows, assignment, distances, decay, _options.DeadCodeThreshold, ref random);
            }

            ch.Info($"Vector quantizer epoch {epoch}: mean squared quantization error {error / ((double)steps * batch):G6}, " +
                $"{book.Reinitialized - before} dead codes re-initialized ({clock.Elapsed.TotalSeconds:F2} s)");
        }

        var all = new int[rows];
        var allDistances = new float[rows];
        for (int pass = 1; pass <= _options.RefinementPasses; pass++)
        {
            double error = book.Refine(data, rows, all, allDistances, _options.DeadCodeThreshold > 0, ref random);
            ch.Info($"Vector quantizer refinement {pass}: mean squared quantization error {error / rows:G6} before the pass ({clock.Elapsed.TotalSeconds:F2} s)");
        }

        var (counts, _, total) = book.Assign(data, null, all, allDistances);
        var usage = new CodebookUsageMetrics(counts);
        ch.Info($"Vector quantizer: mean squared quantization error {total / rows:G6} on the training vectors; {usage.CodesUsed} of {k} codes used, " +
            $"perplexity {usage.Perplexity:F2}; {book.Reinitialized} re-initializations.");
        return new VectorQuantizerModelParameters(Host, k, d, book.Codes.ToArray(), counts, book.Reinitialized);
    }

    /// <inheritdoc/>
    protected override ClusteringPredictionTransformer<VectorQuantizerModelParameters> MakeTransformer(VectorQuantizerModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name);

    private static Options Validate(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.FeatureColumnName))
        {
            ThrowHelper.BadOption(nameof(Options.FeatureColumnName), "FeatureColumnName must name a column.");
        }

        ThrowHelper.CheckOption(options.CodebookSize is >= 1 and <= Defaults.MaxCodebookSize, nameof(Options.CodebookSize),
            $"CodebookSize must be between 1 and {Defaults.MaxCodebookSize}, got {options.CodebookSize}.");
        ThrowHelper.CheckOption(options.Decay is >= 0 and < 1, nameof(Options.Decay), $"Decay must be in [0, 1), got {options.Decay}.");
        ThrowHelper.CheckOption(options.DeadCodeThreshold is >= 0 and < 1, nameof(Options.DeadCodeThreshold), $"DeadCodeThreshold must be in [0, 1), got {options.DeadCodeThreshold}.");
        ThrowHelper.CheckOption(options.BatchSize >= 1, nameof(Options.BatchSize), $"BatchSize must be at least 1, got {options.BatchSize}.");
        ThrowHelper.CheckOption(options.NumberOfEpochs >= 1, nameof(Options.NumberOfEpochs), $"NumberOfEpochs must be at least 1, got {options.NumberOfEpochs}.");
        ThrowHelper.CheckOption(options.RefinementPasses >= 0, nameof(Options.RefinementPasses), $"RefinementPasses must be at least 0, got {options.RefinementPasses}.");
        ThrowHelper.CheckOption(options.NumberOfThreads is null or >= 1, nameof(Options.NumberOfThreads), $"NumberOfThreads must be at least 1, got {options.NumberOfThreads}.");
        return options;
    }

    /// <summary>Options of <see cref="VectorQuantizerTrainer"/>; validated when the trainer is created and copied, so later changes do not reach it.</summary>
    public sealed class Options
    {
        /// <summary>The vectors: a known-size vector of Single.</summary>
        public string FeatureColumnName { get; set; } = DefaultColumnNames.Features;

        /// <summary>K, the number of codes (1 to 65,536).</summary>
        public int CodebookSize { get; set; } = Defaults.CodebookSize;

        /// <summary>
        /// d, the decay of the moving averages in [0, 1): 0 moves each code to the mean of its batch vectors; VQ-VAE uses 0.99. Step t
        /// (from 0) uses min(d, (1 + t) / (10 + t)), as TensorFlow's ExponentialMovingAverage with num_updates does.
        /// </summary>
        public double Decay { get; set; } = Defaults.Decay;

        /// <summary>
        /// A code whose moving count falls below this fraction of the uniform count B / K is dead and is moved onto a vector of the current
        /// batch (drawn with probability proportional to its squared quantization error); 0 never re-initializes.
        /// </summary>
        public double DeadCodeThreshold { get; set; } = Defaults.DeadCodeThreshold;

        /// <summary>B, the vectors per update (at most the number of training vectors).</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;

        /// <summary>Passes over the training vectors.</summary>
        public int NumberOfEpochs { get; set; } = Defaults.NumberOfEpochs;

        /// <summary>
        /// Passes over all training vectors after the epochs, each moving every code to the mean of the vectors nearest to it (a Lloyd
        /// step: the moving average with decay 0 over the whole set), which removes the mini-batch noise of the moving averages; a code
        /// with no vector is re-initialized as in training (unless <see cref="DeadCodeThreshold"/> is 0). 0 keeps the moving averages' codes.
        /// </summary>
        public int RefinementPasses { get; set; } = Defaults.RefinementPasses;

        /// <summary>Seed of the initial codes, the shuffles and the re-initializations; null draws one from the <see cref="MLContext"/>'s seed.</summary>
        public int? Seed { get; set; }

        /// <summary>Threads of the nearest-code search; null for one per processor. The result does not depend on it.</summary>
        public int? NumberOfThreads { get; set; }

        internal Options Clone() => (Options)MemberwiseClone();
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>64 codes.</summary>
        public const int CodebookSize = 64;

        /// <summary>The most codes.</summary>
        public const int MaxCodebookSize = 65536;

        /// <summary>0.99, VQ-VAE's.</summary>
        public const double Decay = 0.99;

        /// <summary>A code with less than 3% of the uniform count is dead.</summary>
        public const double DeadCodeThreshold = 0.03;

        /// <summary>256 vectors.</summary>
        public const int BatchSize = 256;

        /// <summary>10 epochs.</summary>
        public const int NumberOfEpochs = 10;

        /// <summary>20 Lloyd passes.</summary>
        public const int RefinementPasses = 20;
    }
}
