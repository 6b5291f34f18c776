using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Trainers.Mdn;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.Mdn;

public sealed class MdnTrainerTests
{
    private readonly ITestOutputHelper _output;

    public MdnTrainerTests(ITestOutputHelper output) => _output = output;

    internal static MdnTrainer.Options InverseOptions(int epochs = 150) => new()
    {
        NumberOfComponents = 3,
        HiddenLayerSizes = new[] { 20, 20 },
        LearningRate = 5e-3,
        BatchSize = 64,
        NumberOfEpochs = epochs,
        Seed = 1,
        NumberOfThreads = 1,
    };

    [Fact]
    public void Inverse_problem_learns_a_multimodal_density_and_round_trips()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(MdnData.Inverse(1000, 1));
        var test = ml.Data.LoadFromEnumerable(MdnData.Inverse(300, 2));
        var pipeline = ml.Transforms.Concatenate("Features", nameof(XRow.X))
            .Append(ml.Regression.Trainers.MixtureDensityNetwork(InverseOptions()));
        var model = pipeline.Fit(train);
        var mdn = model.LastTransformer.Model;
        Assert.Equal(3, mdn.NumberOfComponents);

        // At x = 0.5 the inverse has three branches: the density must have at least two separated modes.
        var engine = ml.Model.CreatePredictionEngine<XRow, MdnOutput>(model);
        var at = engine.Predict(new XRow { X = 0.5f });
        int modes = CountModes(at, 0.5f);
        _output.WriteLine($"x = 0.5: weights [{string.Join(", ", at.MixtureWeights.Select(w => w.ToString("F3")))}], means [{string.Join(", ", at.MixtureMeans.Select(w => w.ToString("F3")))}], " +
            $"sds [{string.Join(", ", at.MixtureStandardDeviations.Select(w => w.ToString("F3")))}], modes {modes}");
        Assert.True(modes >= 2, $"expected at least 2 modes of p(t | x = 0.5), found {modes}");
        Assert.InRange(at.Score, 0.3f, 0.7f);
        Assert.True(at.LowerBound < at.Mode && at.Mode < at.UpperBound);

        var scored = model.Transform(test);
        var metrics = ml.Regression.EvaluateMdn(scored);
        _output.WriteLine($"test NLL {metrics.NegativeLogLikelihood:F4}, CRPS {metrics.ContinuousRankedProbabilityScore:F4}, coverage {metrics.IntervalCoverage:F3} of {metrics.NominalCoverage}, PIT KS {metrics.PitKolmogorovSmirnov:F3}");
        Assert.True(metrics.NegativeLogLikelihood < -0.5, $"test NLL {metrics.NegativeLogLikelihood}");
        Assert.InRange(metrics.IntervalCoverage, 0.8, 0.97);

        var regression = ml.Regression.Evaluate(scored);
        _output.WriteLine($"R2 {regression.RSquared:F3}, RMSE {regression.RootMeanSquaredError:F3}");
        Assert.True(regression.RSquared > 0.3, $"R2 {regression.RSquared}");

        var featurized = ml.Transforms.Concatenate("Features", nameof(XRow.X)).Fit(test).Transform(test);
        var pfi = ml.Regression.PermutationFeatureImportance(model.LastTransformer, featurized, permutationCount: 1);
        Assert.Single(pfi);
        Assert.True(pfi[0].RSquared.Mean < -0.3, $"permuting the only feature should hurt R2, got {pfi[0].RSquared.Mean}");

        // Save -> fresh MLContext -> Load -> identical outputs, every column.
        string path = Path.Combine(Path.GetTempPath(), $"mdn-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, train.Schema, path);
            var ml2 = new MLContext();
            var loaded = ml2.Model.Load(path, out _);
            var before = ml.Data.CreateEnumerable<MdnOutput>(scored, reuseRowObject: false).ToArray();
            var after = ml2.Data.CreateEnumerable<MdnOutput>(loaded.Transform(test), reuseRowObject: false).ToArray();
            Assert.Equal(before.Length, after.Length);
            for (int i = 0; i < before.Length; i++)
            {
                AssertSame(before[i], after[i]);
            }

            var engine2 = ml2.Model.CreatePredictionEngine<XRow, MdnOutput>(loaded);
            AssertSame(at, engine2.Predict(new XRow { X = 0.5f }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed_and_thread_count()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MdnData.Inverse(400, 3));
        var options = InverseOptions(epochs: 5);
        options.NumberOfThreads = 2;
        options.BatchSize = 128;
        var pipeline = ml.Transforms.Concatenate("Features", nameof(XRow.X)).Append(ml.Regression.Trainers.MixtureDensityNetwork(options));
        var a = pipeline.Fit(data).LastTransformer.Model.Parameters.ToArray();
        var b = pipeline.Fit(data).LastTransformer.Model.Parameters.ToArray();
        Assert.Equal(a, b);
        options.Seed = 2;
        var c = ml.Transforms.Concatenate("Features", nameof(XRow.X)).Append(ml.Regression.Trainers.MixtureDensityNetwork(options)).Fit(data).LastTransformer.Model.Parameters.ToArray();
        Assert.NotEqual(a, c);
    }

    internal static int CountModes(MdnOutput p, float x)
    {
        // Count local maxima of the predicted density on a fine grid over the label range.
        int modes = 0;
        double previous = double.NegativeInfinity;
        bool rising = true;
        for (int i = 0; i <= 1200; i++)
        {
            double t = -0.5 + i * 2.0 / 1200;
            double density = 0;
            for (int k = 0; k < p.MixtureWeights.Length; k++)
            {
                double z = (t - p.MixtureMeans[k]) / p.MixtureStandardDeviations[k];
                density += p.MixtureWeights[k] * Math.Exp(-0.5 * z * z) / p.MixtureStandardDeviations[k];
            }

            if (density < previous && rising && previous > 0.05)
            {
                modes++;
            }

            rising = density >= previous;
            previous = density;
        }

        return modes;
    }

    internal static void AssertSame(MdnOutput a, MdnOutput b)
    {
        Assert.Equal(a.Score, b.Score);
        Assert.Equal(a.Mode, b.Mode);
        Assert.Equal(a.StandardDeviation, b.StandardDeviation);
        Assert.Equal(a.LowerBound, b.LowerBound);
        Assert.Equal(a.UpperBound, b.UpperBound);
        Assert.Equal(a.MixtureWeights, b.MixtureWeights);
        Assert.Equal(a.MixtureMeans, b.MixtureMeans);
        Assert.Equal(a.MixtureStandardDeviations, b.MixtureStandardDeviations);
        Assert.Equal(a.MixtureLogWeights, b.MixtureLogWeights);
        Assert.Equal(a.MixtureWeights.Length, a.MixtureLogWeights.Length);
    }
}
