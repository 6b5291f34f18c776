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
        Assert.True(metrics.RecallAt1AToB >= 0.95 && metrics.RecallAt1BToA >= 0.95, $"recall@1 {metrics.RecallAt1AToB}, {metrics.RecallAt1BToA}");
        Assert.True(metrics.RecallAt10AToB >= metrics.RecallAt5AToB && metrics.RecallAt5AToB >= metrics.RecallAt1AToB);
        Assert.Equal(500, metrics.RowCount);

        // Random heads do far worse: the evaluator can tell.
        var untrained = ml.Transforms.InfoNce(new InfoNceEstimator.Options { EmbeddingSize = 16, NumberOfEpochs = 1, LearningRate = 1e-9, Seed = 1 })
            .Fit(ml.Data.LoadFromEnumerable(Pairs(64, 1)));
        Assert.True(ml.Transforms.EvaluateRetrieval(untrained.Transform(ml.Data.LoadFromEnumerable(Pairs(500, 2)))).RecallAt1AToB < 0.5);
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
    public void Early_stopping_on_validation_recall()
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
        options.NumberOfEpochs = 200;
        options.EarlyStoppingPatience = 2;
        var estimator = ml.Transforms.InfoNce(options);
        var model = estimator.Fit(ml.Data.LoadFromEnumerable(Pairs(1000, 1)), ml.Data.LoadFromEnumerable(Pairs(200, 3)));
        var epochs = messages.Where(m => m.Contains("InfoNCE epoch", StringComparison.Ordinal)).ToArray();
        Assert.True(epochs.Length < 200);
        Assert.All(epochs, m => Assert.Contains("validation recall@1", m, StringComparison.Ordinal));
        Assert.True(ml.Transforms.EvaluateRetrieval(model.Transform(ml.Data.LoadFromEnumerable(Pairs(200, 3)))).RecallAt1AToB > 0.9);
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

    [Fact]
    public void Bad_input_fails_clearly()
    {
        var ml = new MLContext(1);
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce(new InfoNceEstimator.Options { BatchSize = 1 }));
        Assert.Equal("BatchSize", bad.ParamName);
        Assert.Contains("BatchSize must be at least 2, got 1: InfoNCE needs other rows of the batch as negatives.", bad.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce("A", "B", embeddingSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InfoNce(new InfoNceEstimator.Options { HiddenLayerSizes = new[] { 0 } }));

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
