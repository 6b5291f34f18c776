using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// Trains a mixture density network (Bishop, 1994): an MLP whose outputs parameterize a mixture of K diagonal Gaussians over the label,
/// fitted by maximum a posteriori (mean negative log-likelihood plus a Gaussian prior on the weights) with mini-batch Adam, in pure C#.
/// Create it with <see cref="MlNotesTrainersCatalog.MixtureDensityNetwork(RegressionCatalog.RegressionTrainers, string, string, int)"/>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Machine learning task | Regression (conditional density estimation) |
/// | Is normalization required? | Yes: normalize the features (for example `NormalizeMeanVariance`); labels are standardized internally |
/// | Is caching required? | No: the training rows are read into memory once |
/// | Required NuGet in addition to Microsoft.ML | None (MlNotes.Trainers) |
/// | Exportable to ONNX | No |
/// | Input column data type | Features: known-size vector of Single. Label: Single, or a known-size vector of Single (each dimension a diagonal Gaussian) |
/// | Output column data type | `Score` (mixture mean), `Mode`, `StandardDeviation`, `LowerBound`, `UpperBound`: Single, or vectors of the label's size; `MixtureWeights` (K), `MixtureMeans` and `MixtureStandardDeviations` (K x label size): known-size vectors of Single |
///
/// Where a least-squares regressor predicts one number, a mixture density network predicts a whole distribution p(y | x), so it can
/// represent several answers for one input (inverse problems), heteroscedastic noise and skew. `Score` is the mixture mean, so
/// `mlContext.Regression.Evaluate` and permutation feature importance work as for any regressor; `mlContext.Regression.EvaluateMdn`
/// scores the whole distribution (negative log-likelihood, CRPS, interval coverage, PIT calibration).
///
/// Numerics: mixture weights come from logits through a log-softmax, the likelihood through log-sum-exp, and each standard deviation
/// is at least `MinimumSigma` label standard deviations, so a constant label cannot make the likelihood infinite. A run whose loss
/// becomes NaN stops with an `InvalidOperationException` and produces no model. Results depend only on the seed and the thread count.
/// Rows whose label is NaN are skipped (and counted in the log); NaN or infinite features fail, naming the column and the row.
///
/// Sample: `samples/MlNotes.Samples/Mdn/MdnScenario.cs` (Bishop's inverse problem and Old Faithful, with plots).
/// ]]></format>
/// </remarks>
public sealed class MdnTrainer : TrainerEstimatorBase<RegressionPredictionTransformer<MdnModelParameters>, MdnModelParameters>
{
    private readonly Options _options;

    internal MdnTrainer(IHostEnvironment env, Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(MdnTrainer)),
            TrainerUtils.MakeR4VecFeature(Validate(options).FeatureColumnName),
            TrainerUtils.MakeR4ScalarColumn(options.LabelColumnName))
    {
        _options = options.Clone();
    }

    /// <summary>Normalization: yes (features); caching: no; validation set: yes (early stopping).</summary>
    public override TrainerInfo Info { get; } = new(normalization: true, caching: false, supportValid: true);

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <summary>Trains on <paramref name="trainData"/>, stopping early on the negative log-likelihood of <paramref name="validationData"/>.</summary>
    /// <param name="trainData">The training rows.</param>
    /// <param name="validationData">Rows to watch; the model of the epoch with the lowest validation NLL is kept.</param>
    /// <returns>The prediction transformer.</returns>
    /// <exception cref="InvalidOperationException">No usable training rows, or training diverged.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or mistyped, or has NaN or infinite features.</exception>
    public RegressionPredictionTransformer<MdnModelParameters> Fit(IDataView trainData, IDataView validationData)
        => TrainTransformer(trainData, validationData);

    /// <inheritdoc/>
    protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
    {
        bool single = labelCol.ItemType == NumberDataViewType.Single;
        bool shape = labelCol.Kind is SchemaShape.Column.VectorKind.Scalar or SchemaShape.Column.VectorKind.Vector;
        if (!single || !shape || labelCol.IsKey)
        {
            ThrowHelper.SchemaMismatch("inputSchema", labelCol.Name, "Single or a known-size vector of Single", labelCol.GetTypeString());
        }
    }

    /// <inheritdoc/>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
    {
        bool vectorLabel = inputSchema.TryFindColumn(LabelColumn.Name, out var label) && label.Kind == SchemaShape.Column.VectorKind.Vector;
        var labelShaped = vectorLabel ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.Scalar;
        var vector = SchemaShape.Column.VectorKind.Vector;
        var single = NumberDataViewType.Single;
        return new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, labelShaped, single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
            new SchemaShape.Column(MdnColumnNames.Mode, labelShaped, single, false),
            new SchemaShape.Column(MdnColumnNames.StandardDeviation, labelShaped, single, false),
            new SchemaShape.Column(MdnColumnNames.LowerBound, labelShaped, single, false),
            new SchemaShape.Column(MdnColumnNames.UpperBound, labelShaped, single, false),
            new SchemaShape.Column(MdnColumnNames.MixtureWeights, vector, single, false),
            new SchemaShape.Column(MdnColumnNames.MixtureMeans, vector, single, false),
            new SchemaShape.Column(MdnColumnNames.MixtureStandardDeviations, vector, single, false),
        };
    }

    /// <inheritdoc/>
    protected override MdnModelParameters TrainModelCore(TrainContext trainContext)
    {
        using var ch = Host.Start(nameof(MdnTrainer));
        var train = trainContext.TrainingSet;
        var featureColumn = train.Schema.Feature!.Value;
        var labelColumn = train.Schema.Label!.Value;
        int featureCount = featureColumn.Type.GetVectorSize();
        if (featureCount <= 0)
        {
            ThrowHelper.SchemaMismatch("input", featureColumn.Name, "a known-size vector of Single", $"{featureColumn.Type}");
        }

        int labelSize = labelColumn.Type is VectorDataViewType labelVector ? labelVector.Size : 1;
        if (labelSize <= 0 || labelColumn.Type.GetItemType() != NumberDataViewType.Single)
        {
            ThrowHelper.SchemaMismatch("input", labelColumn.Name, "Single or a known-size vector of Single", $"{labelColumn.Type}");
        }

        var data = MdnDataLoader.Read(train.Data, featureColumn, labelColumn, featureCount, labelSize, out long skipped);
        if (skipped > 0)
        {
            ch.Warning($"MDN: skipped {skipped} training rows whose label '{labelColumn.Name}' is NaN.");
        }

        if (data.Rows == 0)
        {
            ThrowHelper.InvalidOperation(skipped > 0
                ? $"The training set has no usable rows: all {skipped} rows have a NaN label '{labelColumn.Name}'."
                : "The training set is empty: an MDN needs at least one row to train on.");
        }

        MdnDataSet? validation = null;
        if (trainContext.ValidationSet is { } validSet)
        {
            validation = MdnDataLoader.Read(validSet.Data, validSet.Schema.Feature!.Value, validSet.Schema.Label!.Value, featureCount, labelSize, out long validSkipped);
            if (validSkipped > 0)
            {
                ch.Warning($"MDN: skipped {validSkipped} validation rows whose label is NaN.");
            }
        }

        int seed = _options.Seed ?? Host.Rand.Next();
        var random = new SplitMix64((ulong)(uint)seed);
        if (validation == null && _options.ValidationFraction > 0)
        {
            (data, validation) = Split(data, featureCount, labelSize, _options.ValidationFraction, ref random);
        }

        var (mean, scale) = MdnDataLoader.Standardization(data, labelSize);
        MdnDataLoader.Standardize(data, mean, scale);
        if (validation != null)
        {
            MdnDataLoader.Standardize(validation, mean, scale);
        }

        var head = new MdnHead(_options.NumberOfComponents, labelSize, _options.SigmaTransform, _options.MinimumSigma);
        var network = new MdnNetwork<float>(featureCount, _options.HiddenLayerSizes, _options.Activation, head);
        var parameters = new float[network.ParameterCount];
        network.Initialize(parameters, ref random, MeanBias(data, labelSize, _options.NumberOfComponents));
        int threads = _options.NumberOfThreads ?? Environment.ProcessorCount;
        var schedule = new MdnSchedule(_options.NumberOfEpochs, _options.BatchSize, _options.LearningRate, _options.L2Regularization,
            _options.EarlyStoppingPatience, threads, random.NextUInt64());
        double lossOffset = scale.Sum(Math.Log);
        ch.Info($"MDN: {data.Rows} rows, {featureCount} features, label size {labelSize}, K = {head.Components}, hidden [{string.Join(", ", _options.HiddenLayerSizes)}], " +
            $"{network.ParameterCount} parameters, {threads} threads.");
        var optimizer = new MdnOptimizer(network, schedule);
        optimizer.Train(parameters, data, validation, lossOffset, e => ch.Info(e.ValidationLoss is double v
            ? $"MDN epoch {e.Epoch}: training loss {e.TrainingLoss:F5}, validation NLL {v:F5} ({e.Seconds:F2} s)"
            : $"MDN epoch {e.Epoch}: training loss {e.TrainingLoss:F5} ({e.Seconds:F2} s)"));
        return new MdnModelParameters(Host, network, parameters, mean, scale, _options.IntervalCoverage);
    }

    /// <inheritdoc/>
    protected override RegressionPredictionTransformer<MdnModelParameters> MakeTransformer(MdnModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name);

    private static double[] MeanBias(MdnDataSet data, int labelSize, int components)
    {
        var bias = new double[components * labelSize];
        var values = new float[data.Rows];
        for (int j = 0; j < labelSize; j++)
        {
            for (int r = 0; r < data.Rows; r++)
            {
                values[r] = data.Labels[r * labelSize + j];
            }

            Array.Sort(values);
            for (int c = 0; c < components; c++)
            {
                int at = (int)Math.Min(data.Rows - 1, Math.Floor((c + 0.5) / components * data.Rows));
                bias[c * labelSize + j] = values[at];
            }
        }

        return bias;
    }

    private static (MdnDataSet Train, MdnDataSet Validation) Split(MdnDataSet data, int featureCount, int labelSize, double fraction, ref SplitMix64 random)
    {
        var order = Enumerable.Range(0, data.Rows).ToArray();
        random.Shuffle(order);
        int held = (int)Math.Round(fraction * data.Rows);
        if (held < 1 || held >= data.Rows)
        {
            ThrowHelper.InvalidOperation($"ValidationFraction {fraction} of {data.Rows} rows leaves no training or no validation rows.");
        }

        return (Take(order.AsSpan(held)), Take(order.AsSpan(0, held)));

        MdnDataSet Take(ReadOnlySpan<int> rows)
        {
            var features = new float[rows.Length * featureCount];
            var labels = new float[rows.Length * labelSize];
            for (int i = 0; i < rows.Length; i++)
            {
                data.Features.AsSpan(rows[i] * featureCount, featureCount).CopyTo(features.AsSpan(i * featureCount));
                data.Labels.AsSpan(rows[i] * labelSize, labelSize).CopyTo(labels.AsSpan(i * labelSize));
            }

            return new MdnDataSet(features, labels, rows.Length);
        }
    }

    private static Options Validate(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.LabelColumnName))
        {
            ThrowHelper.BadOption(nameof(Options.LabelColumnName), "LabelColumnName must name a column.");
        }

        if (string.IsNullOrWhiteSpace(options.FeatureColumnName))
        {
            ThrowHelper.BadOption(nameof(Options.FeatureColumnName), "FeatureColumnName must name a column.");
        }

        if (options.NumberOfComponents < 1 || options.NumberOfComponents > Defaults.MaxComponents)
        {
            ThrowHelper.BadOption(nameof(Options.NumberOfComponents),
                $"NumberOfComponents must be between 1 and {Defaults.MaxComponents}, got {options.NumberOfComponents}.");
        }

        if (options.HiddenLayerSizes == null || options.HiddenLayerSizes.Length == 0)
        {
            ThrowHelper.BadOption(nameof(Options.HiddenLayerSizes), "HiddenLayerSizes must list at least one hidden layer, for example [32, 32].");
        }

        for (int i = 0; i < options.HiddenLayerSizes.Length; i++)
        {
            if (options.HiddenLayerSizes[i] < 1)
            {
                ThrowHelper.BadOption(nameof(Options.HiddenLayerSizes), $"Hidden layer {i} has {options.HiddenLayerSizes[i]} units: every hidden layer needs at least one.");
            }
        }

        if (!Enum.IsDefined(options.Activation))
        {
            ThrowHelper.BadOption(nameof(Options.Activation), $"Unknown activation {options.Activation}.");
        }

        if (!Enum.IsDefined(options.SigmaTransform))
        {
            ThrowHelper.BadOption(nameof(Options.SigmaTransform), $"Unknown sigma transform {options.SigmaTransform}.");
        }

        ThrowHelper.CheckOption(options.MinimumSigma > 0 && double.IsFinite(options.MinimumSigma), nameof(Options.MinimumSigma), $"MinimumSigma must be positive and finite, got {options.MinimumSigma}.");
        ThrowHelper.CheckOption(options.L2Regularization >= 0 && double.IsFinite(options.L2Regularization), nameof(Options.L2Regularization), $"L2Regularization must be at least 0, got {options.L2Regularization}.");
        ThrowHelper.CheckOption(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(Options.LearningRate), $"LearningRate must be positive, got {options.LearningRate}.");
        ThrowHelper.CheckOption(options.BatchSize >= 1, nameof(Options.BatchSize), $"BatchSize must be at least 1, got {options.BatchSize}.");
        ThrowHelper.CheckOption(options.NumberOfEpochs >= 1, nameof(Options.NumberOfEpochs), $"NumberOfEpochs must be at least 1, got {options.NumberOfEpochs}.");
        ThrowHelper.CheckOption(options.EarlyStoppingPatience >= 0, nameof(Options.EarlyStoppingPatience), $"EarlyStoppingPatience must be at least 0, got {options.EarlyStoppingPatience}.");
        ThrowHelper.CheckOption(options.ValidationFraction is >= 0 and < 1, nameof(Options.ValidationFraction), $"ValidationFraction must be in [0, 1), got {options.ValidationFraction}.");
        ThrowHelper.CheckOption(options.IntervalCoverage is > 0 and < 1, nameof(Options.IntervalCoverage), $"IntervalCoverage must be in (0, 1), got {options.IntervalCoverage}.");
        ThrowHelper.CheckOption(options.NumberOfThreads is null or >= 1, nameof(Options.NumberOfThreads), $"NumberOfThreads must be at least 1, got {options.NumberOfThreads}.");
        return options;
    }

    /// <summary>Options of <see cref="MdnTrainer"/>; validated when the trainer is created and copied, so later changes do not reach it.</summary>
    public sealed class Options
    {
        /// <summary>The label: Single, or a known-size vector of Single (one diagonal Gaussian dimension per slot).</summary>
        public string LabelColumnName { get; set; } = DefaultColumnNames.Label;

        /// <summary>The features: a known-size vector of Single.</summary>
        public string FeatureColumnName { get; set; } = DefaultColumnNames.Features;

        /// <summary>K, the number of Gaussian components.</summary>
        public int NumberOfComponents { get; set; } = Defaults.NumberOfComponents;

        /// <summary>Units of each hidden layer, input side first; at least one layer.</summary>
        public int[] HiddenLayerSizes { get; set; } = Defaults.HiddenLayerSizes.ToArray();

        /// <summary>The hidden layers' nonlinearity.</summary>
        public Activation Activation { get; set; } = Defaults.Activation;

        /// <summary>How the network's outputs become standard deviations.</summary>
        public MdnSigmaTransform SigmaTransform { get; set; } = Defaults.SigmaTransform;

        /// <summary>The smallest standard deviation of a component, in standard deviations of the training label (1 for a constant label).</summary>
        public double MinimumSigma { get; set; } = Defaults.MinimumSigma;

        /// <summary>
        /// The precision lambda of the Gaussian prior N(0, 1/lambda) on every weight (not the biases): training minimizes
        /// (sum of NLL + lambda/2 ||w||^2) / N, the negative log posterior per row. 0 is maximum likelihood.
        /// </summary>
        public double L2Regularization { get; set; } = Defaults.L2Regularization;

        /// <summary>Adam's step size.</summary>
        public double LearningRate { get; set; } = Defaults.LearningRate;

        /// <summary>Rows per Adam step.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;

        /// <summary>Passes over the training rows (fewer when early stopping ends training).</summary>
        public int NumberOfEpochs { get; set; } = Defaults.NumberOfEpochs;

        /// <summary>With a validation set: stop after this many epochs without a better validation NLL (0: never stop early). The best epoch's model is kept.</summary>
        public int EarlyStoppingPatience { get; set; } = Defaults.EarlyStoppingPatience;

        /// <summary>Fraction of the training rows held out for early stopping when <c>Fit</c> gets no validation set (0: none).</summary>
        public double ValidationFraction { get; set; }

        /// <summary>Coverage of the central prediction interval [<c>LowerBound</c>, <c>UpperBound</c>], from the mixture's CDF.</summary>
        public double IntervalCoverage { get; set; } = Defaults.IntervalCoverage;

        /// <summary>Seed of the initial weights and the shuffles; null draws one from the <see cref="MLContext"/>'s seed.</summary>
        public int? Seed { get; set; }

        /// <summary>Threads per batch; null for one per processor. Results depend on the seed and this number only.</summary>
        public int? NumberOfThreads { get; set; }

        internal Options Clone()
        {
            var copy = (Options)MemberwiseClone();
            copy.HiddenLayerSizes = (int[])HiddenLayerSizes.Clone();
            return copy;
        }
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>Three components.</summary>
        public const int NumberOfComponents = 3;

        /// <summary>The most components an MDN may have.</summary>
        public const int MaxComponents = 128;

        /// <summary>Tanh, as in Bishop's MDN.</summary>
        public const Activation Activation = MlNotes.Trainers.Activation.Tanh;

        /// <summary>Softplus.</summary>
        public const MdnSigmaTransform SigmaTransform = MdnSigmaTransform.Softplus;

        /// <summary>A thousandth of the label's standard deviation.</summary>
        public const double MinimumSigma = 1e-3;

        /// <summary>A weak prior, N(0, 100) on each weight.</summary>
        public const double L2Regularization = 1e-2;

        /// <summary>Adam's usual 1e-3.</summary>
        public const double LearningRate = 1e-3;

        /// <summary>128 rows.</summary>
        public const int BatchSize = 128;

        /// <summary>200 epochs.</summary>
        public const int NumberOfEpochs = 200;

        /// <summary>10 epochs.</summary>
        public const int EarlyStoppingPatience = 10;

        /// <summary>A central 90% interval.</summary>
        public const double IntervalCoverage = 0.9;

        /// <summary>Two hidden layers of 32 units.</summary>
        public static IReadOnlyList<int> HiddenLayerSizes { get; } = new[] { 32, 32 };
    }
}
