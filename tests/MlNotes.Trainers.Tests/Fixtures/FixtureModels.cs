using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.InfoNce;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Tests.Mdn;
using MlNotes.Trainers.Tests.Vq;
using MlNotes.Trainers.Vq;

namespace MlNotes.Trainers.Tests.Fixtures;

/// <summary>
/// One committed model zip, Zips/&lt;Version&gt;/&lt;Name&gt;.zip: how its model is built today, the fixed rows it is scored on, and the columns compared.
/// </summary>
internal sealed record Fixture(string Name, Func<MLContext, (ITransformer Model, DataViewSchema InputSchema)> Build, Func<MLContext, IDataView> Inputs,
    string[] InputColumns, string[] OutputColumns, string Version = "v1")
{
    public string Key => $"{Version}/{Name}";
}

/// <summary>
/// The code that built the fixture zips under Fixtures/Zips/v1 (each component's first format) and Fixtures/Zips/v2 (the sampling
/// transformer's second: draws keyed by row id), kept so a fresh build can be checked against the committed outputs. Tiny models, one
/// thread and fixed seeds: each zip is a few kB.
/// </summary>
internal static class FixtureModels
{
    public static readonly Fixture Mdn = new("MdnModelParameters", BuildMdn, ml => ml.Data.LoadFromEnumerable(MdnInputs()),
        new[] { "Features" },
        new[]
        {
            "Score", MdnColumnNames.Mode, MdnColumnNames.StandardDeviation, MdnColumnNames.LowerBound, MdnColumnNames.UpperBound,
            MdnColumnNames.MixtureWeights, MdnColumnNames.MixtureMeans, MdnColumnNames.MixtureStandardDeviations,
        });

    public static readonly Fixture Sampling = new("MdnSamplingTransformer", BuildSampling, ml => ml.Data.LoadFromEnumerable(MixtureInputs()),
        new[] { MdnColumnNames.MixtureWeights, MdnColumnNames.MixtureMeans, MdnColumnNames.MixtureStandardDeviations },
        new[] { "Samples" });

    public static readonly Fixture InfoNce = new("InfoNceTransformer", BuildInfoNce, ml => ml.Data.LoadFromEnumerable(PairInputs()),
        new[] { "A", "B" },
        new[] { "EmbeddingA", "EmbeddingB", "Similarity" });

    /// <summary>
    /// v2 of the sampling transformer, scored on a view that skips the first of four rows: positions 0-2 but row ids 1-3, so the committed
    /// draws are those keyed by row id (the v1 format would key them by position and draw otherwise).
    /// </summary>
    public static readonly Fixture SamplingV2 = new("MdnSamplingTransformer", BuildSamplingV2, ml => ml.Data.SkipRows(ml.Data.LoadFromEnumerable(MixtureInputsV2()), 1),
        new[] { MdnColumnNames.MixtureWeights, MdnColumnNames.MixtureMeans, MdnColumnNames.MixtureStandardDeviations },
        new[] { "Samples" }, "v2");

    public static readonly Fixture VectorQuantizer = new("VectorQuantizerModelParameters", BuildVectorQuantizer,
        ml => ml.Data.LoadFromEnumerable(VqData.Gaussians(2, seed: 11)), new[] { "Features" }, new[] { "Score", "PredictedLabel" });

    public static IEnumerable<Fixture> All => new[] { Mdn, Sampling, InfoNce, SamplingV2, VectorQuantizer };

    public static Fixture Named(string key) => All.Single(f => f.Key == key);

    /// <summary>The MDN trainer's transformer, RegressionPredictionTransformer of MdnModelParameters: K = 2, one hidden layer of 4, 3 epochs on 64 rows.</summary>
    private static (ITransformer, DataViewSchema) BuildMdn(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(MdnData.Inverse(64, 1).Select(r => new MdnRow { Features = new[] { r.X }, Label = r.Label }));
        var options = new MdnTrainer.Options
        {
            NumberOfComponents = 2, HiddenLayerSizes = new[] { 4 }, LearningRate = 1e-2, BatchSize = 16, NumberOfEpochs = 3, Seed = 1, NumberOfThreads = 1,
        };
        return (ml.Regression.Trainers.MixtureDensityNetwork(options).Fit(data), data.Schema);
    }

    /// <summary>The sampling transformer alone, on mixture columns given as data: K = 2, D = 1, 4 draws per row, seed 42.</summary>
    private static (ITransformer, DataViewSchema) BuildSampling(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(MixtureInputs());
        return (ml.Transforms.SampleFromMixture("Samples", numberOfSamples: 4, seed: 42).Fit(data), data.Schema);
    }

    /// <summary>The sampling transformer alone, fitted on four mixture rows: K = 2, D = 1, 4 draws per row, seed 42.</summary>
    private static (ITransformer, DataViewSchema) BuildSamplingV2(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(MixtureInputsV2());
        return (ml.Transforms.SampleFromMixture("Samples", numberOfSamples: 4, seed: 42).Fit(data), data.Schema);
    }

    /// <summary>InfoNCE linear heads A (4) -> 2 and B (3) -> 2: 2 epochs on 16 pairs, batches of 8.</summary>
    private static (ITransformer, DataViewSchema) BuildInfoNce(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(Pairs(16));
        var options = new InfoNceEstimator.Options
        {
            ColumnNameA = "A", ColumnNameB = "B", EmbeddingSize = 2, BatchSize = 8, NumberOfEpochs = 2, LearningRate = 1e-2, Seed = 1, NumberOfThreads = 1,
        };
        return (ml.Transforms.InfoNce(options).Fit(data), data.Schema);
    }

    /// <summary>The vector quantizer's ClusteringPredictionTransformer: K = 4 codes of 2 values, 3 epochs of batches of 16 on 40 rows.</summary>
    private static (ITransformer, DataViewSchema) BuildVectorQuantizer(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(VqData.Gaussians(10, seed: 10));
        var options = new VectorQuantizerTrainer.Options { CodebookSize = 4, BatchSize = 16, NumberOfEpochs = 3, Decay = 0.8, Seed = 1, NumberOfThreads = 1 };
        return (ml.Clustering.Trainers.VectorQuantizer(options).Fit(data), data.Schema);
    }

    private static MdnInput[] MdnInputs() => new[] { 0.1f, 0.5f, 0.9f }.Select(x => new MdnInput { Features = new[] { x } }).ToArray();

    private static MixtureRow[] MixtureInputs() => new[]
    {
        new MixtureRow { MixtureWeights = new[] { 0.3f, 0.7f }, MixtureMeans = new[] { -1f, 2f }, MixtureStandardDeviations = new[] { 0.5f, 0.25f } },
        new MixtureRow { MixtureWeights = new[] { 0.5f, 0.5f }, MixtureMeans = new[] { 0f, 0f }, MixtureStandardDeviations = new[] { 1f, 2f } },
        new MixtureRow { MixtureWeights = new[] { 0.9f, 0.1f }, MixtureMeans = new[] { 10f, -10f }, MixtureStandardDeviations = new[] { 0.1f, 3f } },
    };

    private static MixtureRow[] MixtureInputsV2() => MixtureInputs().Prepend(
        new MixtureRow { MixtureWeights = new[] { 0.6f, 0.4f }, MixtureMeans = new[] { 1f, 5f }, MixtureStandardDeviations = new[] { 2f, 0.5f } }).ToArray();

    private static PairRow[] PairInputs() => Pairs(19).Skip(16).ToArray();

    // Deterministic pairs: B is a fixed linear map of A, plus a small wobble.
    private static PairRow[] Pairs(int n) => Enumerable.Range(0, n).Select(i =>
    {
        var a = Enumerable.Range(0, 4).Select(j => MathF.Sin(1.3f * i + 0.7f * j)).ToArray();
        var b = new[] { a[0] - a[1] + 0.05f * MathF.Cos(i), a[2] + 0.5f * a[3], a[1] + a[3] - a[0] };
        return new PairRow { A = a, B = b };
    }).ToArray();

    public sealed class MdnRow
    {
        [VectorType(1)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Label { get; set; }
    }

    public sealed class MdnInput
    {
        [VectorType(1)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class MixtureRow
    {
        [VectorType(2)]
        public float[] MixtureWeights { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureMeans { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();
    }

    public sealed class PairRow
    {
        [VectorType(4)]
        public float[] A { get; set; } = Array.Empty<float>();

        [VectorType(3)]
        public float[] B { get; set; } = Array.Empty<float>();
    }
}
