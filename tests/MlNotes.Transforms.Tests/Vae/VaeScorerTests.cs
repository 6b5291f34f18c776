using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vae;
using Xunit;

namespace MlNotes.Transforms.Tests.Vae;

public sealed class VaeScorerTests
{
    [Fact]
    public void Elbo_OnTheFixturesEps_AndAtTheMean_EqualsPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        using var sampled = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options { ModelFile = VaeFixture.EncoderFile, NoiseColumnName = "Eps", BatchSize = 2 }).Fit(data);
        using var atMean = ml.Transforms.ScoreVae(VaeFixture.EncoderFile, useLatentMean: true).Fit(data);

        var output = sampled.Transform(data);
        var elbo = output.GetColumn<float>("Elbo").ToArray();
        var logLikelihood = output.GetColumn<float>("ReconstructionLogLikelihood").ToArray();
        var kl = output.GetColumn<float>("KlDivergence").ToArray();
        var elboAtMean = atMean.Transform(data).GetColumn<float>("Elbo").ToArray();

        var negElbo = VaeFixture.Encoder("neg_elbo", null);
        var negElboAtMean = VaeFixture.Encoder("neg_elbo_at_mean", null);
        for (int i = 0; i < VaeFixture.Rows; i++)
        {
            Assert.True(Math.Abs(elbo[i] + negElbo[i]) <= 1e-3, $"row {i}: ELBO {elbo[i]}, PyTorch {-negElbo[i]}");
            Assert.True(Math.Abs(elboAtMean[i] + negElboAtMean[i]) <= 1e-3, $"row {i}: ELBO at the mean {elboAtMean[i]}, PyTorch {-negElboAtMean[i]}");
            Assert.Equal(logLikelihood[i] - kl[i], elbo[i], 1e-3f);
            Assert.True(kl[i] > 0);
        }
    }

    [Fact]
    public void AnExplicitEncoderManifest_NamesTheDecoder_AsTheOneBesideTheEncoderDoes()
    {
        // The manifest given as ManifestFile names its decoder as the one found beside the encoder does (the VAE used to follow
        // the 'decoder' entry only for the manifest beside the encoder, and asked for DecoderModelFile otherwise).
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        string manifest = System.IO.Path.ChangeExtension(VaeFixture.EncoderFile, ".json");
        using var beside = ml.Transforms.ScoreVae(VaeFixture.EncoderFile, useLatentMean: true).Fit(data);
        using var given = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options
        {
            ModelBytes = System.IO.File.ReadAllBytes(VaeFixture.EncoderFile), ManifestFile = manifest, UseLatentMean = true,
        }).Fit(data);
        Assert.Equal(beside.Transform(data).GetColumn<float>("Elbo").ToArray(), given.Transform(data).GetColumn<float>("Elbo").ToArray());
    }

    [Fact]
    public void AGivenDecoderFile_IsCheckedAgainstTheManifestBesideIt_NotTheOneTheEncoderManifestNames()
    {
        // The encoder's manifest names vae-fashion-decoder.json; the decoder given here is a copy whose own manifest says
        // another family: that manifest is the one read, so the pipeline is refused naming it.
        using var temp = TestModels.TempFolder();
        string decoder = temp.File("other-decoder.onnx");
        System.IO.File.Copy(VaeFixture.DecoderFile, decoder);
        string text = System.IO.File.ReadAllText(System.IO.Path.ChangeExtension(VaeFixture.DecoderFile, ".json"));
        Assert.Contains("\"family\": \"vae-decoder\"", text, StringComparison.Ordinal);
        System.IO.File.WriteAllText(System.IO.Path.ChangeExtension(decoder, ".json"), text.Replace("\"family\": \"vae-decoder\"", "\"family\": \"vqvae-decoder\"", StringComparison.Ordinal));
        var ml = new MLContext(seed: 1);
        var e = Assert.ThrowsAny<Exception>(() => ml.Transforms.ScoreVae(new VaeScorerEstimator.Options { ModelFile = VaeFixture.EncoderFile, DecoderModelFile = decoder }));
        Assert.Contains("other-decoder.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("vqvae-decoder", e.Message, StringComparison.Ordinal);

        // Without a manifest beside it, the given decoder is checked against the one the encoder's manifest names, and scores.
        System.IO.File.Delete(System.IO.Path.ChangeExtension(decoder, ".json"));
        var data = VaeFixture.PixelRows(ml);
        using var given = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options { ModelFile = VaeFixture.EncoderFile, DecoderModelFile = decoder, UseLatentMean = true }).Fit(data);
        using var bundled = ml.Transforms.ScoreVae(VaeFixture.EncoderFile, useLatentMean: true).Fit(data);
        Assert.Equal(bundled.Transform(data).GetColumn<float>("Elbo").ToArray(), given.Transform(data).GetColumn<float>("Elbo").ToArray());
    }

    [Fact]
    public void ImportanceSampledLogLikelihood_IsAboveTheElbo_AndSeeded()
    {
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        float[] Run(int seed, int batch, string column)
        {
            using var scorer = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options { ModelFile = VaeFixture.EncoderFile, ImportanceSamples = 32, Seed = seed, BatchSize = batch }).Fit(data);
            return scorer.Transform(data).GetColumn<float>(column).ToArray();
        }

        var logPx = Run(4, 2, "LogLikelihood");
        var elbo = Run(4, 5, "Elbo");

        Assert.Equal(logPx, Run(4, 5, "LogLikelihood"));
        Assert.NotEqual(logPx, Run(5, 5, "LogLikelihood"));
        // log p(x) >= E[ELBO]; with 32 samples the estimate is above the one-sample ELBO on average.
        Assert.True(logPx.Average() > elbo.Average(), $"log p(x) {logPx.Average()}, ELBO {elbo.Average()}");
        Assert.All(logPx, v => Assert.True(float.IsFinite(v) && v < 0));
    }

    [Fact]
    public void PredictionEngine_SaveLoad_AndBadOptions()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        var scorer = ml.Transforms.ScoreVae(VaeFixture.EncoderFile, importanceSamples: 4).Fit(data);
        var expected = scorer.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        var engine = ml.Model.CreatePredictionEngine<VaeFixture.PixelRow, ScoreRow>(scorer, inputSchemaDefinition: VaeFixture.SchemaFor(VaeFixture.ImageSize, VaeFixture.LatentSize));
        var first = ml.Data.CreateEnumerable<VaeFixture.PixelRow>(data, reuseRowObject: false).First();
        Assert.Equal(expected[0], engine.Predict(first).LogLikelihood);
        string zip = temp.File("scorer.zip");
        ml.Model.Save(scorer, data.Schema, zip);
        scorer.Dispose();

        var loaded = new MLContext(seed: 42).Model.Load(zip, out _);

        Assert.Equal(expected, loaded.Transform(data).GetColumn<float>("LogLikelihood").ToArray());
        (loaded as IDisposable)?.Dispose();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ScoreVae(VaeFixture.EncoderFile, importanceSamples: -1));
        Assert.StartsWith("ImportanceSamples must be 0 (none) or more, got -1.", e.Message);
    }

    public sealed class ScoreRow
    {
        public float Elbo { get; set; }

        public float LogLikelihood { get; set; }
    }
}
