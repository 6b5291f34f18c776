using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vae;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Transforms.Tests.Vae;

public sealed class VaeAnomalyDetectorTests
{
    private readonly ITestOutputHelper _output;

    public VaeAnomalyDetectorTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void FashionSubset_AucThroughEvaluate_AndMeanElbos_EqualPyTorch()
    {
        var ml = new MLContext(seed: 1);
        int heldOut = (int)RepoPaths.Metric("vae", "held_out_class");
        var rows = ml.Data.CreateEnumerable<SubsetRow>(
            ml.Data.LoadFromTextFile<SubsetRow>(Path.Combine(RepoPaths.FashionSubset, "labels.csv"), separatorChar: ',', hasHeader: true), reuseRowObject: false)
            .Select(r => new LabeledImage { ImagePath = r.ImagePath, IsAnomaly = r.Label == heldOut ? 1f : 0f })
            .ToArray();
        var all = ml.Data.LoadFromEnumerable(rows);
        var seen = ml.Data.FilterByCustomPredicate<LabeledImage>(all, r => r.IsAnomaly > 0);
        var load = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(LabeledImage.ImagePath)).Fit(all);
        using var detector = ml.Transforms.DetectAnomaliesVae(new VaeAnomalyDetectorEstimator.Options
        {
            ModelFile = VaeFixture.EncoderFile,
            UseLatentMean = true,
            ThresholdPercentile = 90,
            BatchSize = 250,
        }).Fit(load.Transform(seen));
        using var scorer = ml.Transforms.ScoreVae(VaeFixture.EncoderFile, useLatentMean: true, batchSize: 250).Fit(load.Transform(all));

        var detected = detector.Transform(load.Transform(all));
        var metrics = ml.AnomalyDetection.Evaluate(detected, labelColumnName: nameof(LabeledImage.IsAnomaly));
        var elbo = scorer.Transform(load.Transform(all)).GetColumn<float>("Elbo").ToArray();
        double seenElbo = elbo.Where((_, i) => rows[i].IsAnomaly == 0).Average(v => (double)v);
        double heldOutElbo = elbo.Where((_, i) => rows[i].IsAnomaly > 0).Average(v => (double)v);
        var flagged = detected.GetColumn<bool>("PredictedLabel").Where((_, i) => rows[i].IsAnomaly == 0).Count(f => f);

        double auc = RepoPaths.Metric("vae", "subset_auc_at_mean");
        _output.WriteLine($"AUC {metrics.AreaUnderRocCurve:F5} (PyTorch {auc}); mean ELBO seen {seenElbo:F4} (PyTorch {RepoPaths.Metric("vae", "subset_elbo_seen_at_mean")}), held-out {heldOutElbo:F4} (PyTorch {RepoPaths.Metric("vae", "subset_elbo_heldout_at_mean")}); threshold {detector.Threshold:F3}, seen rows flagged {flagged}");
        // metrics.json rounds the AUC to 4 decimals and the ELBOs to 2.
        Assert.True(Math.Abs(metrics.AreaUnderRocCurve - auc) <= 1e-4, $"AUC: ML.NET {metrics.AreaUnderRocCurve:F5}, PyTorch {auc:F4}");
        Assert.True(Math.Abs(seenElbo - RepoPaths.Metric("vae", "subset_elbo_seen_at_mean")) <= 0.006, $"seen ELBO {seenElbo:F3}");
        Assert.True(Math.Abs(heldOutElbo - RepoPaths.Metric("vae", "subset_elbo_heldout_at_mean")) <= 0.006, $"held-out ELBO {heldOutElbo:F3}");
        // The threshold is the 90th percentile of the seen rows: about a tenth of them are flagged.
        Assert.InRange(flagged, 170, 190);
        Assert.Equal(90, detector.ThresholdPercentile);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(-5)]
    [InlineData(double.NaN)]
    public void ThresholdPercentile_OutsideZeroToHundred_IsRefused(double percentile)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DetectAnomaliesVae(VaeFixture.EncoderFile, thresholdPercentile: percentile));

        Assert.Equal("ThresholdPercentile", e.ParamName);
        Assert.StartsWith($"ThresholdPercentile must be strictly between 0 and 100, got {percentile}.", e.Message);
    }

    [Fact]
    public void NaNPixels_AreAnomalies_AndTheDetectorSavesLoadsAndPredicts()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var train = VaeFixture.PixelRows(ml);
        var detector = ml.Transforms.DetectAnomaliesVae(VaeFixture.EncoderFile, inputColumnName: "Image", thresholdPercentile: 50).Fit(train);
        var nan = new VaeFixture.PixelRow { Image = Enumerable.Repeat(float.NaN, VaeFixture.ImageSize).ToArray(), Eps = new float[16] };
        var rows = ml.Data.CreateEnumerable<VaeFixture.PixelRow>(train, reuseRowObject: false).Append(nan).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows, VaeFixture.SchemaFor(VaeFixture.ImageSize, 16));
        var scores = detector.Transform(data).GetColumn<float>("Score").ToArray();
        var labels = detector.Transform(data).GetColumn<bool>("PredictedLabel").ToArray();
        var engine = ml.Model.CreatePredictionEngine<VaeFixture.PixelRow, Prediction>(detector, inputSchemaDefinition: VaeFixture.SchemaFor(VaeFixture.ImageSize, 16));

        Assert.True(float.IsNaN(scores[^1]));
        Assert.True(labels[^1]);
        Assert.Equal(scores.Take(rows.Length - 1).Select(s => s > detector.Threshold), labels.Take(rows.Length - 1));
        Assert.Equal(scores[0], engine.Predict(rows[0]).Score);
        string zip = temp.File("detector.zip");
        ml.Model.Save(detector, data.Schema, zip);
        detector.Dispose();
        var loaded = new MLContext().Model.Load(zip, out _);
        Assert.Equal(scores.Take(rows.Length - 1), loaded.Transform(data).GetColumn<float>("Score").Take(rows.Length - 1));
        Assert.Equal(labels, loaded.Transform(data).GetColumn<bool>("PredictedLabel"));
        (loaded as IDisposable)?.Dispose();
    }

    public sealed class SubsetRow
    {
        [LoadColumn(0)]
        public string ImagePath { get; set; } = "";

        [LoadColumn(1)]
        public int Label { get; set; }
    }

    public sealed class LabeledImage
    {
        public string ImagePath { get; set; } = "";

        /// <summary>1 for the held-out class: AnomalyDetection.Evaluate takes a Single label (or a key of 2 values).</summary>
        public float IsAnomaly { get; set; }
    }

    public sealed class Prediction
    {
        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }
}
