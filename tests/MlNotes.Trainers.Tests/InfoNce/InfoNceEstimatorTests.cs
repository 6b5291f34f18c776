using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.InfoNce;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.InfoNce;

public sealed class InfoNceEstimatorTests
{
    private readonly ITestOutputHelper _output;

    public InfoNceEstimatorTests(ITestOutputHelper output) => _output = output;

    public sealed class Pair
    {
        [VectorType(32)]
        public float[] A { get; set; } = Array.Empty<float>();

        [VectorType(24)]
        public float[] B { get; set; } = Array.Empty<float>();

        public int Clip { get; set; }
    }

    public sealed class OnlyA
    {
        [VectorType(32)]
        public float[] A { get; set; } = Array.Empty<float>();
    }

    public sealed class Embedded
    {
        public float[] EmbeddingA { get; set; } = Array.Empty<float>();

        public float[] EmbeddingB { get; set; } = Array.Empty<float>();

        public float Similarity { get; set; }
    }

    public sealed class EmbeddedA
    {
        public float[] EmbeddingA { get; set; } = Array.Empty<float>();
    }

    /// <summary>B = M A + noise, with M a fixed random 24 x 32 map.</summary>
    internal static Pair[] Pairs(int n, int seed, double noise = 0.1)
    {
        var map = new Random(99);
        var m = Enumerable.Range(0, 24 * 32).Select(_ => map.NextDouble() * 2 - 1).ToArray();
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(i =>
        {
            var a = Enumerable.Range(0, 32).Select(_ => (float)Gaussian(random)).ToArray();
            var b = new float[24];
            for (int r = 0; r < 24; r++)
            {
                double s = 0;
                for (int c = 0; c < 32; c++)
                {
                    s += m[r * 32 + c] * a[c];
                }

                b[r] = (float)(s / Math.Sqrt(32) + noise * Gaussian(random));
            }

            return new Pair { A = a, B = b, Clip = i / 8 };
        }).ToArray();
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static InfoNceEstimator.Options Quick() => new()
    {
        EmbeddingSize = 16, BatchSize = 64, NumberOfEpochs = 15, LearningRate = 5e-3, Seed = 1, NumberOfThreads = 1,
    };

    [Fact]
    public void Learns_a_linear_map_and_retrieves_held_out_pairs()
    {
        var ml = new MLContext(1);
        var model = ml.Transforms.InfoNce(Quick()).Fit(ml.Data.LoadFromEnumerable(Pairs(3000, 1)));
        var test = model.Transform(ml.Data.LoadFromEnumerable(Pairs(500, 2)));
        var metrics = ml.Transforms.EvaluateRetrieval(test);
        _output.WriteLine($"held out: R@1 {metrics.RecallAt1AToB:F3}/{metrics.RecallAt1BToA:F3}, R@5 {metrics.RecallAt5AToB:F3}, R@10 {metrics.RecallAt10AToB:F3}, " +
            $"MRR {metrics.MeanReciprocalRankAToB:F3}, mean rank {metrics.MeanRankAToB:F2}/{metrics.MeanRankBToA:F2}; logit scale {model.LogitScale:F2}");
        // Measured: every one of the 500 held-out pairs ranks its partner first in both directions (R@1 = MRR = mean rank = 1, seed 1,
        // one thread). One miss out of 500 is allowed for another CPU's float rounding of a near tie: 0.998, and mean rank 1.01 at most.
        Assert.True(metrics.RecallAt1AToB >= 0.998 && metrics.RecallAt1BToA >= 0.998, $"recall@1 {metrics.RecallAt1AToB}, {metrics.RecallAt1BToA}");
        Assert.True(metrics.MeanReciprocalRankAToB >= 0.998 && metrics.MeanReciprocalRankBToA >= 0.998, $"MRR {metrics.MeanReciprocalRankAToB}, {metrics.MeanReciprocalRankBToA}");
        Assert.True(metrics.MeanRankAToB <= 1.01 && metrics.MeanRankBToA <= 1.01, $"mean rank {metrics.MeanRankAToB}, {metrics.MeanRankBToA}");
        Assert.True(metrics.RecallAt10AToB >= metrics.RecallAt5AToB && metrics.RecallAt5AToB >= metrics.RecallAt1AToB);
        Assert.Equal(500, metrics.RowCount);

        // Random heads rank like chance: measured R@1 0.004 (chance 1/500 = 0.002), MRR 0.0143 (chance H_500 / 500 = 0.0136), mean rank 273.8
        // (chance 250.5).
        var untrained = ml.Transforms.InfoNce(new InfoNceEstimator.Options { EmbeddingSize = 16, NumberOfEpochs = 1, LearningRate = 1e-9, Seed = 1 })
            .Fit(ml.Data.LoadFromEnumerable(Pairs(64, 1)));
        var u = ml.Transforms.EvaluateRetrieval(untrained.Transform(ml.Data.LoadFromEnumerable(Pairs(500, 2))));
        _output.WriteLine($"untrained: R@1 {u.RecallAt1AToB:F3}/{u.RecallAt1BToA:F3}, MRR {u.MeanReciprocalRankAToB:F4}, mean rank {u.MeanRankAToB:F1}");
        Assert.True(u.RecallAt1AToB < 0.02 && u.MeanReciprocalRankAToB < 0.05, $"untrained R@1 {u.RecallAt1AToB}, MRR {u.MeanReciprocalRankAToB}");
        Assert.InRange(u.MeanRankAToB, 200, 300);
    }

    [Fact]
    public void Temperature_clamp_holds_under_a_large_learning_rate()
    {
        var ml = new MLContext(1);
        var scales = new List<double>();
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("InfoNCE epoch", StringComparison.Ordinal))
            {
                lock (scales)
                {
                    scales.Add(double.Parse(e.Message.Split("logit scale ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        };
        var options = Quick();
        options.LearningRate = 0.5;
        options.NumberOfEpochs = 10;
        var model = ml.Transforms.InfoNce(options).Fit(ml.Data.LoadFromEnumerable(Pairs(512, 1, noise: 0)));
        _output.WriteLine($"logit scale per epoch: {string.Join(", ", scales.Select(s => s.ToString("F2")))}");
        Assert.All(scales, s => Assert.True(s <= 100.0005, $"logit scale {s}"));
        Assert.True(scales.Max() > 99.99, $"a learning rate of 0.5 should push the scale to the clamp, got at most {scales.Max()}");
        Assert.True(model.LogitScale <= 100 * (1 + 1e-6), $"logit scale {model.LogitScale}");

        options.MaximumLogitScale = 20;
        options.InitialTemperature = 0.1;
        var clamped = ml.Transforms.InfoNce(options).Fit(ml.Data.LoadFromEnumerable(Pairs(512, 1, noise: 0)));
        Assert.InRange(clamped.LogitScale, 19.9, 20 * (1 + 1e-6));
    }

    [Fact]
    public void Save_load_gives_identical_outputs_and_each_side_alone()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Pairs(300, 1));
        var model = ml.Transforms.InfoNce(Quick()).Fit(data);
        var scored = ml.Data.CreateEnumerable<Embedded>(model.Transform(data), reuseRowObject: false).ToArray();
        Assert.All(scored, e => Assert.Equal(1.0, Math.Sqrt(e.EmbeddingA.Sum(v => v * v)), 1e-5));
        Assert.All(scored, e => Assert.Equal(e.EmbeddingA.Zip(e.EmbeddingB, (x, y) => x * y).Sum(), e.Similarity, 1e-5));

        string path = Path.Combine(Path.GetTempPath(), $"infonce-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var ml2 = new MLContext();
            var loaded = ml2.Model.Load(path, out _);
            var again = ml2.Data.CreateEnumerable<Embedded>(loaded.Transform(data), reuseRowObject: false).ToArray();
            for (int i = 0; i < scored.Length; i++)
            {
                Assert.Equal(scored[i].EmbeddingA, again[i].EmbeddingA);
                Assert.Equal(scored[i].EmbeddingB, again[i].EmbeddingB);
                Assert.Equal(scored[i].Similarity, again[i].Similarity);
            }

            var engine = ml2.Model.CreatePredictionEngine<Pair, Embedded>(loaded);
            var one = engine.Predict(Pairs(300, 1)[7]);
            Assert.Equal(scored[7].EmbeddingB, one.EmbeddingB);
            Assert.Equal(scored[7].Similarity, one.Similarity);

            // Only column A present: only its embedding.
            var onlyA = ml2.Data.LoadFromEnumerable(Pairs(300, 1).Select(p => new OnlyA { A = p.A }));
            var sideA = loaded.Transform(onlyA);
            Assert.NotNull(sideA.Schema.GetColumnOrNull("EmbeddingA"));
            Assert.Null(sideA.Schema.GetColumnOrNull("EmbeddingB"));
            Assert.Null(sideA.Schema.GetColumnOrNull("Similarity"));
            Assert.Equal(scored[3].EmbeddingA, ml2.Data.CreateEnumerable<EmbeddedA>(sideA, reuseRowObject: false).ElementAt(3).EmbeddingA);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Groups_limit_negatives_and_singleton_groups_are_counted()
    {
        var ml = new MLContext(1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        var pairs = Pairs(1603, 1); // clips of 8 rows, and the last clip has 3; add three singletons
        pairs[1600].Clip = 5000;
        pairs[1601].Clip = 5001;
        pairs[1602].Clip = 5002;
        var options = Quick();
        options.GroupColumnName = nameof(Pair.Clip);
        var model = ml.Transforms.InfoNce(options).Fit(ml.Data.LoadFromEnumerable(pairs));
        Assert.Contains(messages, m => m.Contains("skipped 3 rows alone in their group 'Clip'", StringComparison.Ordinal));
        var metrics = ml.Transforms.EvaluateRetrieval(model.Transform(ml.Data.LoadFromEnumerable(Pairs(300, 2))));
        _output.WriteLine($"grouped training: held-out R@1 {metrics.RecallAt1AToB:F3}");
        Assert.True(metrics.RecallAt1AToB > 0.8);
    }

    [Fact]
    public void Early_stopping_keeps_the_epoch_of_best_validation_recall()
    {
        var ml = new MLContext(1);
        var recalls = new List<double>();
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("InfoNCE epoch", StringComparison.Ordinal))
            {
                lock (recalls)
                {
                    recalls.Add(double.Parse(e.Message.Split("validation recall@1 ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        };

        // 300 training pairs and a noisy validation set (noise 1.0): validation recall@1 peaks and then falls as the heads overfit.
        // Measured: peak 0.0825 at epoch 9, then 0.0750, 0.0700, 0.0750, stop after epoch 12 (patience 3).
        var options = Quick();
        options.NumberOfEpochs = 200;
        options.EarlyStoppingPatience = 3;
        options.LearningRate = 1e-2;
        options.HiddenLayerSizes = new[] { 32 };
        var valid = ml.Data.LoadFromEnumerable(Pairs(200, 3, noise: 1.0));
        var model = ml.Transforms.InfoNce(options).Fit(ml.Data.LoadFromEnumerable(Pairs(300, 1)), valid);
        _output.WriteLine($"validation recall@1 per epoch: {string.Join(", ", recalls.Select(r => r.ToString("F4")))}");

        int best = recalls.IndexOf(recalls.Max()); // the first epoch of the best recall: later ties are not improvements
        Assert.Equal(best + 1 + options.EarlyStoppingPatience, recalls.Count); // stopped after `patience` epochs without a better recall
        Assert.True(recalls[^1] < recalls[best], $"the last epoch ({recalls[^1]}) must be worse than the best ({recalls[best]}) for this test to tell them apart");

        // The kept heads score the best epoch's recall on the same validation set, not the last epoch's. Recall@1 on 200 rows, averaged over
        // both directions, is a multiple of 1/400, which the log's four decimals hold exactly.
        var metrics = ml.Transforms.EvaluateRetrieval(model.Transform(valid));
        Assert.Equal(recalls[best], (metrics.RecallAt1AToB + metrics.RecallAt1BToA) / 2, 1e-12);
    }

    [Fact]
    public void Early_stopping_restores_the_parameters_of_the_best_epoch()
    {
        // The optimizer itself, with a snapshot of the parameters after every epoch: the returned parameters are the best epoch's, bit for bit.
        // Measured (shuffle seed 7): validation recall@1 peaks at 0.0875 in epoch 14, then 0.0825, 0.0775, 0.0775; training stops after epoch 17.
        var train = Read(Pairs(300, 1));
        var valid = Read(Pairs(200, 3, noise: 1.0));
        var network = new InfoNceNetwork<float>(32, 24, new[] { 32 }, 16, Activation.Relu);
        var parameters = new float[network.ParameterCount];
        var random = new MlNotes.Trainers.Numerics.SplitMix64(1);
        network.Initialize(parameters, ref random, Math.Log(1 / 0.07));
        var optimizer = new InfoNceOptimizer(network, new InfoNceSchedule(200, 64, 1e-2, Math.Log(100), LearnScale: true, Patience: 3, Parallel: false, ShuffleSeed: 7));
        var snapshots = new List<(double Recall, float[] Parameters)>();
        int epochs = optimizer.Train(parameters, train, valid, e => snapshots.Add((e.ValidationRecallAt1!.Value, (float[])parameters.Clone())));
        _output.WriteLine($"validation recall@1 per epoch: {string.Join(", ", snapshots.Select(s => s.Recall.ToString("F4")))}");

        int best = snapshots.FindIndex(s => s.Recall == snapshots.Max(t => t.Recall));
        Assert.Equal(snapshots.Count, epochs);
        Assert.Equal(best + 1 + 3, epochs);
        Assert.NotEqual(snapshots[^1].Parameters, snapshots[best].Parameters);
        Assert.Equal(snapshots[best].Parameters, parameters);
        Assert.Equal(snapshots[best].Recall, optimizer.RecallAt1(parameters, valid));

        static InfoNceDataSet Read(Pair[] pairs) => new(pairs.SelectMany(p => p.A).ToArray(), pairs.SelectMany(p => p.B).ToArray(), null, pairs.Length);
    }

    public sealed class Embeddings4
    {
        [VectorType(4)]
        public float[] EmbeddingA { get; set; } = Array.Empty<float>();

        [VectorType(4)]
        public float[] EmbeddingB { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void Retrieval_metrics_are_exact_on_hand_built_embeddings()
    {
        // Unit vectors of 4 values whose similarities are sums: A_i = (p_i, 1, 0, a_i) / 16 and B_j = (1, q_j, b_j, 0) / 16, a and b padding
        // every vector to norm 16 (they meet only zeros), so A_i . B_j = (p_i + q_j) / 256, exactly in float (powers of two, small integers).
        // A -> B: rank of row i = 1 + #{j : q_j > q_i}; B -> A: rank of row i = 1 + #{j : p_j > p_i}, ties counted in the query's favour.
        int[] q = { 5, 12, 1, 9, 3, 10, 7, 2, 11, 6, 4, 8 }; // distinct: ranks 13 - q = 8, 1, 12, 4, 10, 3, 6, 11, 2, 7, 9, 5
        int[] p = { 0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 5, 4 };    // ties: ranks 10, 10, 10, 8, 8, 7, 3, 3, 3, 3, 1, 2
        var rows = Enumerable.Range(0, 12).Select(i => new Embeddings4
        {
            EmbeddingA = new[] { p[i] / 16f, 1 / 16f, 0, MathF.Sqrt(256 - 1 - p[i] * p[i]) / 16 },
            EmbeddingB = new[] { 1 / 16f, q[i] / 16f, MathF.Sqrt(256 - 1 - q[i] * q[i]) / 16, 0 },
        }).ToArray();
        Assert.All(rows, r => Assert.Equal(1, Math.Sqrt(r.EmbeddingA.Sum(v => v * v)), 1e-6));

        var ml = new MLContext(1);
        var metrics = ml.Transforms.EvaluateRetrieval(ml.Data.LoadFromEnumerable(rows));

        // A -> B: the ranks are 1 ... 12 once each.
        Assert.Equal(12, metrics.RowCount);
        Assert.Equal(1.0 / 12, metrics.RecallAt1AToB);
        Assert.Equal(5.0 / 12, metrics.RecallAt5AToB);
        Assert.Equal(10.0 / 12, metrics.RecallAt10AToB);
        Assert.Equal(Enumerable.Range(1, 12).Sum(r => 1.0 / r) / 12, metrics.MeanReciprocalRankAToB, 1e-15); // H_12 / 12 = 0.25860
        Assert.Equal(6.5, metrics.MeanRankAToB);

        // B -> A: ranks 10, 10, 10, 8, 8, 7, 3, 3, 3, 3, 1, 2.
        Assert.Equal(1.0 / 12, metrics.RecallAt1BToA);
        Assert.Equal(6.0 / 12, metrics.RecallAt5BToA);
        Assert.Equal(1.0, metrics.RecallAt10BToA);
        Assert.Equal((3.0 / 10 + 2.0 / 8 + 1.0 / 7 + 4.0 / 3 + 1 + 1.0 / 2) / 12, metrics.MeanReciprocalRankBToA, 1e-15); // 0.29385
        Assert.Equal(68.0 / 12, metrics.MeanRankBToA, 1e-15);
    }

    [Fact]
    public void Validation_fraction_holds_out_pairs()
    {
        var ml = new MLContext(1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        var options = Quick();
        options.NumberOfEpochs = 3;
        options.ValidationFraction = 0.2;
        ml.Transforms.InfoNce(options).Fit(ml.Data.LoadFromEnumerable(Pairs(500, 1)));
        Assert.Contains(messages, m => m.Contains("InfoNCE: 400 pairs", StringComparison.Ordinal));
        Assert.Equal(3, messages.Count(m => m.Contains("validation recall@1", StringComparison.Ordinal)));
    }

    public sealed class VarPair
    {
        public float[] A { get; set; } = Array.Empty<float>();

        public float[] B { get; set; } = Array.Empty<float>();
    }

    public static TheoryData<Action<InfoNceEstimator.Options>, string, string> BadOptions() => new()
    {
        { o => o.LearningRate = 0, "LearningRate", "LearningRate must be positive, got 0." },
        { o => o.LearningRate = -1e-3, "LearningRate", "LearningRate must be positive, got -0.001." },
        { o => o.LearningRate = double.NaN, "LearningRate", "LearningRate must be positive, got NaN." },
        { o => o.LearningRate = double.PositiveInfinity, "LearningRate", $"LearningRate must be positive, got {double.PositiveInfinity}." },
        { o => o.MaximumLogitScale = 0.5, "MaximumLogitScale", "MaximumLogitScale must be at least 1, got 0.5." },
        { o => o.MaximumLogitScale = double.NaN, "MaximumLogitScale", "MaximumLogitScale must be at least 1, got NaN." },
        { o => o.MaximumLogitScale = double.PositiveInfinity, "MaximumLogitScale", $"MaximumLogitScale must be at least 1, got {double.PositiveInfinity}." },
        { o => o.InitialTemperature = 0, "InitialTemperature", "InitialTemperature must be in [1 / MaximumLogitScale, 1] = [0.01, 1], got 0." },
        { o => o.InitialTemperature = -0.07, "InitialTemperature", "InitialTemperature must be in [1 / MaximumLogitScale, 1] = [0.01, 1], got -0.07." },
        { o => o.InitialTemperature = double.NaN, "InitialTemperature", "InitialTemperature must be in [1 / MaximumLogitScale, 1] = [0.01, 1], got NaN." },
        { o => o.InitialTemperature = 0.005, "InitialTemperature", "InitialTemperature must be in [1 / MaximumLogitScale, 1] = [0.01, 1], got 0.005." },
        { o => o.InitialTemperature = 2, "InitialTemperature", "InitialTemperature must be in [1 / MaximumLogitScale, 1] = [0.01, 1], got 2." },
        { o => (o.MaximumLogitScale, o.InitialTemperature) = (20, 0.04), "InitialTemperature", "InitialTemperature must be in [1 / MaximumLogitScale, 1] = [0.05, 1], got 0.04." },
        { o => o.EarlyStoppingPatience = -1, "EarlyStoppingPatience", "EarlyStoppingPatience must be at least 0, got -1." },
        { o => o.NumberOfEpochs = 0, "NumberOfEpochs", "NumberOfEpochs must be at least 1, got 0." },
        { o => o.ValidationFraction = double.NaN, "ValidationFraction", "ValidationFraction must be in [0, 1), got NaN." },
        { o => o.ValidationFraction = 1, "ValidationFraction", "ValidationFraction must be in [0, 1), got 1." },
        { o => o.NumberOfThreads = 0, "NumberOfThreads", "NumberOfThreads must be at least 1, got 0." },
        { o => o.EmbeddingSize = 0, "EmbeddingSize", "EmbeddingSize must be at least 1, got 0." },
        { o => o.HiddenLayerSizes = new[] { 8, 0 }, "HiddenLayerSizes", "Every hidden layer needs at least one unit (an empty list gives linear heads)." },
        { o => o.Activation = (Activation)9, "Activation", "Unknown activation 9." },
        { o => o.SimilarityColumnName = " ", "SimilarityColumnName", "SimilarityColumnName must name a column." },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_fail_when_the_estimator_is_built(Action<InfoNceEstimator.Options> spoil, string option, string message)
    {
        var options = Quick();
        spoil(options);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.InfoNce(options));
        Assert.Equal(option, ex.ParamName);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_fails_clearly()
    {
        var ml = new MLContext(1);
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce(new InfoNceEstimator.Options { BatchSize = 1 }));
        Assert.Equal("BatchSize", bad.ParamName);
        Assert.Contains("BatchSize must be at least 2, got 1: InfoNCE needs other rows of the batch as negatives.", bad.Message, StringComparison.Ordinal);
        var embedding = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce("A", "B", embeddingSize: 0));
        Assert.Equal("EmbeddingSize", embedding.ParamName);
        Assert.Contains("EmbeddingSize must be at least 1, got 0.", embedding.Message, StringComparison.Ordinal);

        var pairs = Pairs(50, 1);
        pairs[9].B[4] = float.NaN;
        var nan = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce(Quick()).Fit(ml.Data.LoadFromEnumerable(pairs)));
        Assert.Contains("Input column 'B' has NaN in slot 4 at row 9", nan.Message, StringComparison.Ordinal);

        var ragged = Enumerable.Range(0, 10).Select(i => new VarPair { A = new float[i == 6 ? 3 : 4], B = new float[2] }).ToArray();
        var lengths = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce(Quick()).Fit(ml.Data.LoadFromEnumerable(ragged)));
        Assert.Contains("Schema mismatch for input column 'A': expected 4 values in every row, got 3 values at row 6", lengths.Message, StringComparison.Ordinal);

        var empty = Assert.Throws<InvalidOperationException>(() => ml.Transforms.InfoNce(Quick()).Fit(ml.Data.LoadFromEnumerable(Array.Empty<Pair>())));
        Assert.Contains("The training set is empty", empty.Message, StringComparison.Ordinal);

        var singletons = Pairs(5, 1);
        for (int i = 0; i < singletons.Length; i++)
        {
            singletons[i].Clip = i;
        }

        var options = Quick();
        options.GroupColumnName = nameof(Pair.Clip);
        var none = Assert.Throws<InvalidOperationException>(() => ml.Transforms.InfoNce(options).Fit(ml.Data.LoadFromEnumerable(singletons)));
        Assert.Contains("no batch of two or more pairs", none.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce("A", "Nope").Fit(ml.Data.LoadFromEnumerable(Pairs(5, 1))));
        Assert.Contains("Could not find input column 'Nope'", missing.Message, StringComparison.Ordinal);
    }
}
