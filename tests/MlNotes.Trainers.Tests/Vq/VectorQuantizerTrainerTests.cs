using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.Vq;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.Vq;

public sealed class VectorQuantizerTrainerTests
{
    private readonly ITestOutputHelper _output;

    public VectorQuantizerTrainerTests(ITestOutputHelper output) => _output = output;

    private static VectorQuantizerTrainer.Options Quick(int k = 4) => new() { CodebookSize = k, BatchSize = 64, NumberOfEpochs = 10, Decay = 0.9, Seed = 1, NumberOfThreads = 1 };

    [Fact]
    public void Well_separated_gaussian_clusters_are_recovered()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VqData.Gaussians(100, seed: 3));
        var model = ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(data);
        var codes = model.Model.GetCodebook();
        Assert.Equal(4, codes.Length);
        foreach (var centre in VqData.Centres)
        {
            // Each centre has a code within 0.1: after the refinement passes each code is its cluster's sample mean, whose distance from
            // the centre is about 0.3 * sqrt(2 / 100) = 0.042 (rms over the two slots). Measured: 0.049 at most.
            double nearest = codes.Min(c => Math.Sqrt(Math.Pow(c[0] - centre[0], 2) + Math.Pow(c[1] - centre[1], 2)));
            _output.WriteLine($"centre ({centre[0]}, {centre[1]}): nearest code at {nearest:F4}");
            Assert.True(nearest < 0.1, $"no code near ({centre[0]}, {centre[1]}): nearest at {nearest}");
        }

        var scored = model.Transform(data);
        var metrics = ml.Clustering.Evaluate(scored, labelColumnName: nameof(VqRow.Cluster), scoreColumnName: "Score");
        Assert.Equal(1, metrics.NormalizedMutualInformation, 6); // every cluster is one code
        // Mean squared distance to the nearest code: 2 slots of variance 0.09 = 0.18 (the sample's own value, measured 0.181).
        Assert.InRange(metrics.AverageDistance, 0.15, 0.21);
        var usage = ml.Clustering.EvaluateCodebook(scored);
        Assert.Equal(new long[] { 100, 100, 100, 100 }, usage.Counts);
        Assert.Equal(4, usage.Perplexity, 12);
        Assert.Equal(1, usage.CodebookUsage);
        Assert.Equal(0, usage.DeadCodes);
        Assert.Equal(usage.Counts, model.Model.TrainingUsage.Counts);
    }

    [Fact]
    public void Dead_codes_are_revived_on_data_that_starves_them()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VqData.Starving(100, seed: 5));
        var without = Quick(5);
        without.DeadCodeThreshold = 0;
        var starvedModel = ml.Clustering.Trainers.VectorQuantizer(without).Fit(data);
        var revivedModel = ml.Clustering.Trainers.VectorQuantizer(Quick(5)).Fit(data);
        var (starved, revived) = (starvedModel.Model, revivedModel.Model);
        _output.WriteLine($"without re-initialization: counts [{string.Join(", ", starved.TrainingUsage.Counts)}]; " +
            $"with: [{string.Join(", ", revived.TrainingUsage.Counts)}], {revived.ReinitializedCodes} re-initializations");

        // Seed 1 starts two codes on the repeated point: without re-initialization the second stays dead.
        Assert.Equal(0, starved.ReinitializedCodes);
        Assert.True(starved.TrainingUsage.DeadCodes > 0, "the data was meant to starve codes");
        Assert.True(revived.ReinitializedCodes > 0);
        Assert.Equal(0, revived.TrainingUsage.DeadCodes);
        // Seed 1 leaves one code starved on the repeated point and one code serving two far clusters; the revived code is drawn where the
        // batch's error is largest, so it takes one of those two clusters: measured 25.2 without, 0.095 with (one code per cluster: 0.09).
        double Error(ITransformer m) => ml.Clustering.Evaluate(m.Transform(data), scoreColumnName: "Score").AverageDistance;
        double before = Error(starvedModel), after = Error(revivedModel);
        _output.WriteLine($"mean squared error without {before:F3}, with {after:F3}");
        Assert.True(after < 0.7 * before, $"mean squared error without {before}, with {after}");
    }

    [Fact]
    public void A_seed_gives_the_same_codebook_whatever_the_thread_count_and_another_seed_another()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VqData.Gaussians(300, seed: 4, sigma: 3)); // overlapping: the result depends on the path
        float[][] Train(int seed, int threads)
        {
            var o = Quick(6);
            o.Seed = seed;
            o.NumberOfThreads = threads;
            return ml.Clustering.Trainers.VectorQuantizer(o).Fit(data).Model.GetCodebook();
        }

        var a = Train(7, 1);
        Assert.Equal(a, Train(7, 1));
        Assert.Equal(a, Train(7, 2)); // 1,200 rows: several chunks of 256, reduced in chunk order
        Assert.NotEqual(a, Train(8, 1));
    }

    [Fact]
    public void Training_converges_and_reports_progress_through_the_ML_NET_channel()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("Vector quantizer", StringComparison.Ordinal))
            {
                lock (messages)
                {
                    messages.Add(e.Message);
                }
            }
        };
        var data = ml.Data.LoadFromEnumerable(VqData.Gaussians(200, seed: 6, sigma: 1));
        var options = Quick(16);
        options.NumberOfEpochs = 8;
        ml.Clustering.Trainers.VectorQuantizer(options).Fit(data);
        var errors = messages.Select(m => Regex.Match(m, @"epoch (\d+): mean squared quantization error ([0-9.Ee+-]+)"))
            .Where(m => m.Success).Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToArray();
        _output.WriteLine(string.Join("\n", messages));
        Assert.Equal(8, errors.Length);
        Assert.Contains(messages, m => m.Contains("codes used, perplexity", StringComparison.Ordinal));
        // 16 codes on 4 clusters of variance 1 per slot: the error falls from the random start and levels off well below the
        // within-cluster variance of 2 (one code per cluster); measured 0.893 in epoch 1, 0.682 in epoch 7 and 0.689 in epoch 8.
        Assert.True(errors[^1] < errors[0], $"epoch errors {string.Join(", ", errors)}");
        Assert.True(errors[^1] < 0.7 * 2, $"final error {errors[^1]}");
        Assert.True(Math.Abs(errors[^1] - errors[^2]) < 0.1 * errors[^1], "not levelled off");
    }

    [Fact]
    public void NaN_and_infinite_values_fail_naming_the_column_and_the_row()
    {
        var ml = new MLContext();
        var rows = VqData.Gaussians(5, seed: 1);
        rows[7].Features[1] = float.NaN;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Input column 'Features' has NaN in slot 1 at row 7", ex.Message, StringComparison.Ordinal);
        rows[7].Features[1] = float.NegativeInfinity;
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Input column 'Features' has an infinite value in slot 1 at row 7", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_training_set_fails_naming_the_column()
    {
        var ml = new MLContext();
        var ex = Assert.Throws<InvalidOperationException>(() => ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(ml.Data.LoadFromEnumerable(Array.Empty<VqRow>())));
        Assert.Equal("The training set is empty: a vector quantizer needs at least one vector in column 'Features'.", ex.Message);
    }

    public sealed class Wide
    {
        [VectorType(3)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Ragged
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Scalar
    {
        public float Features { get; set; }
    }

    [Fact]
    public void Vectors_of_another_size_or_type_fail_naming_the_column()
    {
        var ml = new MLContext();
        var model = ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(ml.Data.LoadFromEnumerable(VqData.Gaussians(10, seed: 1)));
        var wide = ml.Data.LoadFromEnumerable(new[] { new Wide { Features = new[] { 1f, 2f, 3f } } });
        // ML.NET's clustering scorer checks the size when it binds the model (KMeans' models give the same message).
        var wrong = Assert.Throws<InvalidOperationException>(() => model.Transform(wide));
        Assert.Equal("Incompatible features column type: 'Vector<Single, 3>' vs 'Vector<Single, 2>'", wrong.Message);


        var ragged = ml.Data.LoadFromEnumerable(new[] { new Ragged { Features = new[] { 1f } } });
        var ex = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(ragged));
        Assert.Contains("'Features'", ex.Message, StringComparison.Ordinal);
        var scalar = ml.Data.LoadFromEnumerable(new[] { new Scalar { Features = 1 } });
        ex = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(scalar));
        Assert.Contains("'Features'", ex.Message, StringComparison.Ordinal);
        ex = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => model.Model.Quantize(new float[3]));
        Assert.Contains("The vector has 3 values where the codebook's codes have 2.", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<Action<VectorQuantizerTrainer.Options>, string, string> BadOptions() => new()
    {
        { o => o.FeatureColumnName = " ", "FeatureColumnName", "FeatureColumnName must name a column." },
        { o => o.CodebookSize = 0, "CodebookSize", "CodebookSize must be between 1 and 65536, got 0." },
        { o => o.CodebookSize = 65537, "CodebookSize", "CodebookSize must be between 1 and 65536, got 65537." },
        { o => o.Decay = 1, "Decay", "Decay must be in [0, 1), got 1." },
        { o => o.Decay = double.NaN, "Decay", "Decay must be in [0, 1), got NaN." },
        { o => o.DeadCodeThreshold = -0.1, "DeadCodeThreshold", "DeadCodeThreshold must be in [0, 1), got -0.1." },
        { o => o.BatchSize = 0, "BatchSize", "BatchSize must be at least 1, got 0." },
        { o => o.NumberOfEpochs = 0, "NumberOfEpochs", "NumberOfEpochs must be at least 1, got 0." },
        { o => o.NumberOfThreads = 0, "NumberOfThreads", "NumberOfThreads must be at least 1, got 0." },
        { o => o.RefinementPasses = -1, "RefinementPasses", "RefinementPasses must be at least 0, got -1." },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_fail_when_the_trainer_is_built(Action<VectorQuantizerTrainer.Options> spoil, string parameter, string message)
    {
        var options = new VectorQuantizerTrainer.Options();
        spoil(options);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Clustering.Trainers.VectorQuantizer(options));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Equal("CodebookSize", Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Clustering.Trainers.VectorQuantizer(codebookSize: -1)).ParamName);
    }

    [Fact]
    public void Options_are_copied_and_every_one_is_honoured()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VqData.Gaussians(100, seed: 9, sigma: 2));
        var options = Quick(8);
        var trainer = ml.Clustering.Trainers.VectorQuantizer(options);
        options.CodebookSize = 3; // too late: the trainer copied the options
        var baseline = trainer.Fit(data).Model;
        Assert.Equal(8, baseline.CodebookSize);
        var codes = baseline.GetCodebook();
        foreach (var change in new Action<VectorQuantizerTrainer.Options>[]
        {
            o => o.Decay = 0.5, o => o.DeadCodeThreshold = 0.9, o => o.BatchSize = 32, o => o.NumberOfEpochs = 2, o => o.Seed = 2, o => o.RefinementPasses = 0,
        })
        {
            var o = Quick(8);
            change(o);
            Assert.NotEqual(codes, ml.Clustering.Trainers.VectorQuantizer(o).Fit(data).Model.GetCodebook());
        }

        var renamed = ml.Transforms.CopyColumns("Vectors", "Features").Fit(data).Transform(data);
        var other = Quick(8);
        other.FeatureColumnName = "Vectors";
        Assert.Equal(codes, ml.Clustering.Trainers.VectorQuantizer(other).Fit(renamed).Model.GetCodebook());
    }

    [Fact]
    public void Prediction_engine_gives_the_nearest_code_and_the_squared_distances()
    {
        var ml = new MLContext(seed: 1);
        var rows = VqData.Gaussians(20, seed: 2);
        var model = ml.Clustering.Trainers.VectorQuantizer(Quick()).Fit(ml.Data.LoadFromEnumerable(rows));
        var engine = ml.Model.CreatePredictionEngine<VqRow, VqPrediction>(model);
        var codes = model.Model.GetCodebook();
        foreach (var row in rows.Take(8))
        {
            var p = engine.Predict(row);
            var expected = codes.Select(c => (c[0] - row.Features[0]) * (c[0] - row.Features[0]) + (c[1] - row.Features[1]) * (c[1] - row.Features[1])).ToArray();
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.Equal(expected[k], p.Score[k], 1e-3); // |x|^2 + |e|^2 - 2 x.e in float32 at |x|^2 ~ 200: ulp 1.5e-5, measured 4e-5
            }

            Assert.Equal((uint)(model.Model.Quantize(row.Features) + 1), p.PredictedLabel);
            Assert.Equal(Array.IndexOf(p.Score, p.Score.Min()) + 1, (int)p.PredictedLabel);
        }
    }
}
