using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.Mdn;
using Xunit;

namespace MlNotes.Trainers.Tests.Mdn;

public sealed class MdnBadInputTests
{
    private static EstimatorChain<RegressionPredictionTransformer<MdnModelParameters>> Pipeline(MLContext ml, MdnTrainer.Options options)
        => ml.Transforms.Concatenate("Features", nameof(XRow.X)).Append(ml.Regression.Trainers.MixtureDensityNetwork(options));

    private static MdnTrainer.Options Quick() => new() { NumberOfEpochs = 3, HiddenLayerSizes = new[] { 8 }, Seed = 1, NumberOfThreads = 1 };

    public static TheoryData<Action<MdnTrainer.Options>, string, string> BadOptions() => new()
    {
        { o => o.NumberOfComponents = 0, "NumberOfComponents", "NumberOfComponents must be between 1 and 128, got 0." },
        { o => o.HiddenLayerSizes = Array.Empty<int>(), "HiddenLayerSizes", "HiddenLayerSizes must list at least one hidden layer" },
        { o => o.HiddenLayerSizes = new[] { 16, 0 }, "HiddenLayerSizes", "Hidden layer 1 has 0 units" },
        { o => o.MinimumSigma = 0, "MinimumSigma", "MinimumSigma must be positive" },
        { o => o.LearningRate = double.NaN, "LearningRate", "LearningRate must be positive" },
        { o => o.BatchSize = 0, "BatchSize", "BatchSize must be at least 1, got 0." },
        { o => o.NumberOfEpochs = 0, "NumberOfEpochs", "NumberOfEpochs must be at least 1" },
        { o => o.L2Regularization = -1, "L2Regularization", "L2Regularization must be at least 0" },
        { o => o.IntervalCoverage = 1, "IntervalCoverage", "IntervalCoverage must be in (0, 1), got 1." },
        { o => o.ValidationFraction = 1, "ValidationFraction", "ValidationFraction must be in [0, 1)" },
        { o => o.NumberOfThreads = 0, "NumberOfThreads", "NumberOfThreads must be at least 1" },
        { o => o.Activation = (Activation)7, "Activation", "Unknown activation 7." },
        { o => o.LabelColumnName = "", "LabelColumnName", "LabelColumnName must name a column." },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_fail_when_the_trainer_is_built(Action<MdnTrainer.Options> spoil, string parameter, string message)
    {
        var options = new MdnTrainer.Options();
        spoil(options);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Regression.Trainers.MixtureDensityNetwork(options));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Simple_overload_rejects_zero_components()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Regression.Trainers.MixtureDensityNetwork(numberOfComponents: 0));
        Assert.Equal("NumberOfComponents", ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(int.MinValue)]
    public void Sampling_without_samples_fails_when_the_estimator_is_built(int samples)
    {
        var ml = new MLContext();
        var simple = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SampleFromMixture("Samples", numberOfSamples: samples));
        var options = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SampleFromMixture(new MdnSamplingEstimator.Options { NumberOfSamples = samples }));
        foreach (var ex in new[] { simple, options })
        {
            Assert.Equal("NumberOfSamples", ex.ParamName);
            Assert.Contains($"NumberOfSamples must be at least 1, got {samples}.", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(nameof(MdnSamplingEstimator.Options.OutputColumnName))]
    [InlineData(nameof(MdnSamplingEstimator.Options.WeightsColumnName))]
    [InlineData(nameof(MdnSamplingEstimator.Options.MeansColumnName))]
    [InlineData(nameof(MdnSamplingEstimator.Options.StandardDeviationsColumnName))]
    public void Sampling_with_a_blank_column_name_fails_when_the_estimator_is_built(string option)
    {
        var options = new MdnSamplingEstimator.Options();
        typeof(MdnSamplingEstimator.Options).GetProperty(option)!.SetValue(options, " ");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.SampleFromMixture(options));
        Assert.Equal(option, ex.ParamName);
        Assert.Contains($"{option} must name a column.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_copied_when_the_trainer_is_built()
    {
        var ml = new MLContext(1);
        var options = Quick();
        var pipeline = Pipeline(ml, options);
        options.NumberOfComponents = 0;
        options.HiddenLayerSizes[0] = 0;
        var mdn = pipeline.Fit(ml.Data.LoadFromEnumerable(MdnData.Inverse(100, 1))).LastTransformer.Model;
        Assert.Equal(3, mdn.NumberOfComponents);
        Assert.Equal(new[] { 8 }, mdn.HiddenLayerSizes);
    }

    [Fact]
    public void Rows_with_a_NaN_label_are_skipped_and_counted()
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
        var rows = MdnData.Inverse(200, 1);
        foreach (int i in new[] { 3, 50, 51, 199 })
        {
            rows[i].Label = float.NaN;
        }

        var model = Pipeline(ml, Quick()).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.NotNull(model);
        Assert.Contains(messages, m => m.Contains("skipped 4 training rows whose label 'Label' is NaN", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("MDN epoch 3: training loss", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(float.NaN, "NaN in slot 0")]
    [InlineData(float.PositiveInfinity, "an infinite value in slot 0")]
    public void NaN_or_infinite_features_fail_naming_the_column_and_row(float bad, string what)
    {
        var ml = new MLContext(1);
        var rows = MdnData.Inverse(50, 1);
        rows[17].X = bad;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline(ml, Quick()).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Equal("Features", ex.ParamName);
        Assert.Contains($"Input column 'Features' has {what} at row 17", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_training_set_fails_at_fit()
    {
        var ml = new MLContext(1);
        var ex = Assert.Throws<InvalidOperationException>(() => Pipeline(ml, Quick()).Fit(ml.Data.LoadFromEnumerable(Array.Empty<XRow>())));
        Assert.Contains("The training set is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_training_set_of_NaN_labels_fails_at_fit()
    {
        var ml = new MLContext(1);
        var rows = MdnData.Inverse(5, 1);
        foreach (var row in rows)
        {
            row.Label = float.NaN;
        }

        var ex = Assert.Throws<InvalidOperationException>(() => Pipeline(ml, Quick()).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("all 5 rows have a NaN label 'Label'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_label_of_the_wrong_type_fails_naming_it()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { X = 1f, Label = true } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline(ml, Quick()).Fit(data));
        Assert.Contains("Schema mismatch for input column 'Label': expected Single or a known-size vector of Single, got Boolean", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_constant_label_keeps_finite_likelihoods()
    {
        var ml = new MLContext(1);
        var rows = MdnData.Inverse(200, 1);
        foreach (var row in rows)
        {
            row.Label = 4.2f;
        }

        var options = Quick();
        options.NumberOfEpochs = 30;
        options.LearningRate = 1e-2;
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Pipeline(ml, options).Fit(data);
        var scored = model.Transform(data);
        var metrics = ml.Regression.EvaluateMdn(scored);
        Assert.True(double.IsFinite(metrics.NegativeLogLikelihood));
        // The floor: sigma >= 1e-3 (the scale of a constant label is 1), so -log p >= log(1e-3 sqrt(2 pi)) > -6.
        Assert.True(metrics.NegativeLogLikelihood > -6, $"NLL {metrics.NegativeLogLikelihood}");
        var outputs = ml.Data.CreateEnumerable<MdnOutput>(scored, reuseRowObject: false).ToArray();
        Assert.All(outputs, o => Assert.All(o.MixtureStandardDeviations, s => Assert.True(s >= 1e-3f * 0.999f)));
        Assert.All(outputs, o => Assert.Equal(4.2, o.Score, 0.05));
    }

    [Fact]
    public void A_diverging_run_stops_with_a_clear_error()
    {
        var ml = new MLContext(1);
        var options = Quick();
        options.LearningRate = 1e9;
        options.SigmaTransform = MdnSigmaTransform.Exp;
        options.NumberOfEpochs = 50;
        var ex = Assert.Throws<InvalidOperationException>(() => Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(MdnData.Inverse(200, 1))));
        Assert.Contains("MDN training diverged at epoch", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no model was produced", ex.Message, StringComparison.Ordinal);
    }
}
