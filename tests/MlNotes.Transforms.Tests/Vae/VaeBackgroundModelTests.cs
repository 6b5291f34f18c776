using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vae;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Transforms.Tests.Vae;

/// <summary>The bundled background VAE (models-onnx/vae-fashion-background-*) and the likelihood ratio on real images, against PyTorch.</summary>
public sealed class VaeBackgroundModelTests
{
    private readonly ITestOutputHelper _output;

    public VaeBackgroundModelTests(ITestOutputHelper output) => _output = output;

    private static string Background => RepoPaths.Model("vae-fashion-background-encoder.onnx");

    [Fact]
    public void BackgroundVae_NegativeElboAtTheMean_EqualsPyTorch()
    {
        var ml = new MLContext(seed: 1);
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vae-fashion-background-encoder.json"))));
        var root = fixture.RootElement;
        var files = root.GetProperty("images").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToArray();
        var expected = root.GetProperty("neg_elbo_at_mean").GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var data = ml.Data.LoadFromEnumerable(files.Select(f => new VaeAnomalyDetectorTests.LabeledImage { ImagePath = f }));
        var images = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(VaeAnomalyDetectorTests.LabeledImage.ImagePath)).Fit(data).Transform(data);
        using var scorer = ml.Transforms.ScoreVae(Background, useLatentMean: true).Fit(images);

        var elbo = scorer.Transform(images).GetColumn<float>("Elbo").ToArray();

        // -ELBOs of 220 to 410 nats, sums over 784 pixels in float32 on both sides: measured gap below 2e-4, bound 1e-3 (relative 3e-6).
        Assert.All(expected.Zip(elbo), p => Assert.Equal(p.First, -p.Second, 1e-3));
    }

    [Fact]
    public void LikelihoodRatio_OnTheHeldOutClassAndTheGlyphs_HasPyTorchsAuroc()
    {
        var ml = new MLContext(seed: 1);
        var subset = File.ReadLines(Path.Combine(RepoPaths.FashionSubset, "labels.csv")).Skip(1).Select(l => l.Split(','))
            .Select(f => (Path: Path.Combine(RepoPaths.FashionSubset, f[0]), Kind: f[1] == "9" ? 1 : 0));
        string glyphs = Path.Combine(RepoPaths.Root, "models-onnx", "data", "glyphs");
        var rows = subset.Concat(Directory.GetFiles(glyphs, "*.png").Order(StringComparer.Ordinal).Select(p => (Path: p, Kind: 2))).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new VaeAnomalyDetectorTests.LabeledImage { ImagePath = r.Path }));
        var images = ml.Transforms.LoadImages("Image", null, nameof(VaeAnomalyDetectorTests.LabeledImage.ImagePath)).Fit(data).Transform(data);
        using var detector = ml.Transforms.DetectAnomaliesVae(new VaeAnomalyDetectorEstimator.Options
        {
            ModelFile = VaeFixture.EncoderFile,
            AnomalyScore = VaeAnomalyScore.LikelihoodRatio,
            BackgroundModelFile = Background,
            UseLatentMean = true,
            BatchSize = 250,
        }).Fit(ml.Data.TakeRows(images, 100));

        var scores = detector.Transform(images).GetColumn<float>("Score").ToArray();
        var kinds = rows.Select(r => r.Kind).ToArray();
        double heldOut = Auroc(scores, kinds, positive: 1), glyph = Auroc(scores, kinds, positive: 2);

        _output.WriteLine($"likelihood ratio AUROC: held-out {heldOut:F5} (PyTorch {RepoPaths.Metric("vae_background", "heldout_auroc_likelihood_ratio")}), glyphs {glyph:F5} (PyTorch {RepoPaths.Metric("vae_background", "glyphs_auroc_likelihood_ratio")})");
        // metrics.json rounds to 4 decimals.
        Assert.Equal(RepoPaths.Metric("vae_background", "heldout_auroc_likelihood_ratio"), heldOut, 1e-4);
        Assert.Equal(RepoPaths.Metric("vae_background", "glyphs_auroc_likelihood_ratio"), glyph, 1e-4);
    }

    /// <summary>P(a positive scores above a seen-class image, kind 0), ties 1/2: the rank statistic build.py's roc_auc computes.</summary>
    private static double Auroc(float[] scores, int[] kinds, int positive)
    {
        var negatives = scores.Where((_, i) => kinds[i] == 0).ToArray();
        var positives = scores.Where((_, i) => kinds[i] == positive).ToArray();
        double wins = positives.Sum(p => negatives.Sum(n => p > n ? 1.0 : p == n ? 0.5 : 0.0));
        return wins / (positives.Length * (double)negatives.Length);
    }
}
