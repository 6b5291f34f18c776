using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vae;
using SkiaSharp;
using Xunit;

namespace MlNotes.Transforms.Tests.Vae;

/// <summary>
/// The anomaly detector's scores beyond the negative log-likelihood: the input-complexity correction (Serrà et al. 2020) and
/// the likelihood ratio against a background VAE (Ren et al. 2019), on the tiny VAE pairs of TestModels/vae (8 x 8 images).
/// </summary>
public sealed class VaeAnomalyScoreTests
{
    private static readonly string s_encoder = TestModels.Path(Path.Combine("vae", "tiny_vae_encoder.onnx"));
    private static readonly string s_decoder = TestModels.Path(Path.Combine("vae", "tiny_vae_decoder.onnx"));
    private static readonly string s_backgroundEncoder = TestModels.Path(Path.Combine("vae", "tiny_vae_background_encoder.onnx"));
    private static readonly string s_backgroundDecoder = TestModels.Path(Path.Combine("vae", "tiny_vae_background_decoder.onnx"));

    [Fact]
    public void InputComplexity_IsTheNegativeElboInBits_MinusThePngLengthInBits()
    {
        var ml = new MLContext(seed: 1);
        var data = Pixels(ml);
        using var nll = Detector(ml, VaeAnomalyScore.NegativeLogLikelihood).Fit(data);
        using var complexity = Detector(ml, VaeAnomalyScore.InputComplexity).Fit(data);
        var plain = nll.Transform(data).GetColumn<float>("Score").ToArray();
        var corrected = complexity.Transform(data).GetColumn<float>("Score").ToArray();
        var images = data.GetColumn<float[]>("Image").ToArray();

        for (int i = 0; i < images.Length; i++)
        {
            double bits = PngLength(images[i]) * 8.0;
            // float32 scores of about 60 bits: measured gap at most 4e-6, bound 1e-4.
            Assert.Equal((plain[i] / Math.Log(2)) - bits, corrected[i], 1e-4);
        }

        Assert.Equal(VaeAnomalyScore.InputComplexity, complexity.AnomalyScore);
        Assert.NotEqual(nll.Threshold, complexity.Threshold);
    }

    [Fact]
    public void PngBits_AreTheLengthOfALosslessPng_AndGrowWithTheImagesComplexity()
    {
        var flat = new float[64];
        var random = new Random(3);
        var noisy = Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble()).ToArray();

        double flatBits = InputComplexity.PngBits(flat, 1, 8, 8), noisyBits = InputComplexity.PngBits(noisy, 1, 8, 8);

        Assert.Equal(PngLength(flat) * 8.0, flatBits);
        Assert.Equal(PngLength(noisy) * 8.0, noisyBits);
        Assert.True(noisyBits > flatBits + (8 * 32), $"noise {noisyBits} bits, a flat image {flatBits}");
        using var decoded = SKBitmap.Decode(Png(noisy));
        Assert.Equal(noisy.Select(v => (byte)Math.Round(v * 255)), Enumerable.Range(0, 64).Select(i => decoded.GetPixel(i % 8, i / 8).Red));
        Assert.True(double.IsNaN(InputComplexity.PngBits(new[] { float.NaN }.Concat(flat.Skip(1)).ToArray(), 1, 8, 8)));
    }

    [Fact]
    public void LikelihoodRatio_IsTheDifferenceOfTheTwoVaes_NegativeElbos()
    {
        var ml = new MLContext(seed: 1);
        var data = Pixels(ml);
        using var ratio = Detector(ml, VaeAnomalyScore.LikelihoodRatio, o =>
        {
            o.BackgroundModelFile = s_backgroundEncoder; // its manifest names the decoder
            o.ImportanceSamples = 3;
        }).Fit(data);
        using var main = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options
        {
            ModelFile = s_encoder, DecoderModelFile = s_decoder, InputColumnName = "Image", ImportanceSamples = 3, Seed = 4,
        }).Fit(data);
        using var background = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options
        {
            ModelFile = s_backgroundEncoder, DecoderModelFile = s_backgroundDecoder, InputColumnName = "Image", ImportanceSamples = 3, Seed = 4,
        }).Fit(data);

        var scores = ratio.Transform(data).GetColumn<float>("Score").ToArray();
        var expected = main.Transform(data).GetColumn<float>("LogLikelihood").Zip(background.Transform(data).GetColumn<float>("LogLikelihood"), (a, b) => b - a).ToArray();

        // The same images and seeded noise feed both VAEs: float32 log-likelihoods of about 44 nats, measured gap 0, bound 1e-5.
        Assert.Equal(expected.Length, scores.Length);
        Assert.All(expected.Zip(scores), p => Assert.Equal(p.First, p.Second, 1e-5));
        Assert.Equal(4, ratio.Mapper.Models.Count);
    }

    [Fact]
    public void LikelihoodRatio_AgainstTheSameVae_IsZero()
    {
        var ml = new MLContext(seed: 1);
        var data = Pixels(ml);
        using var ratio = Detector(ml, VaeAnomalyScore.LikelihoodRatio, o =>
        {
            o.BackgroundModelFile = s_encoder;
            o.BackgroundDecoderModelFile = s_decoder;
        }).Fit(data);

        Assert.All(ratio.Transform(data).GetColumn<float>("Score"), s => Assert.Equal(0f, s));
    }

    [Theory]
    [InlineData(VaeAnomalyScore.InputComplexity)]
    [InlineData(VaeAnomalyScore.LikelihoodRatio)]
    public void EachScore_SavesLoadsAndPredicts_WithIdenticalOutputs(VaeAnomalyScore kind)
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = Pixels(ml);
        var detector = Detector(ml, kind, o => o.BackgroundModelFile = kind == VaeAnomalyScore.LikelihoodRatio ? s_backgroundEncoder : null).Fit(data);
        var scores = detector.Transform(data).GetColumn<float>("Score").ToArray();
        var labels = detector.Transform(data).GetColumn<bool>("PredictedLabel").ToArray();
        string zip = temp.File("detector.zip");
        ml.Model.Save(detector, data.Schema, zip);
        using (var engine = ml.Model.CreatePredictionEngine<PixelRow, VaeAnomalyDetectorTests.Prediction>(detector, inputSchemaDefinition: Schema()))
        {
            var rows = ml.Data.CreateEnumerable<PixelRow>(data, reuseRowObject: false, schemaDefinition: Schema()).ToArray();
            Assert.Equal(scores, rows.Select(r => engine.Predict(r).Score));
        }

        detector.Dispose();
        var loaded = (VaeAnomalyDetectorTransformer)new MLContext().Model.Load(zip, out _);
        using (loaded)
        {
            Assert.Equal(kind, loaded.AnomalyScore);
            Assert.Equal(scores, loaded.Transform(data).GetColumn<float>("Score"));
            Assert.Equal(labels, loaded.Transform(data).GetColumn<bool>("PredictedLabel"));
        }
    }

    /// <summary>
    /// The committed v3 zips of the two scores that v3 brought (Fixtures/Zips/v3/vae-anomaly-{complexity,ratio}.zip, written once
    /// with MLNOTES_WRITE_FIXTURES=1, never overwritten): they load in a fresh context with their committed outputs, and today's
    /// build gives the same (measured gap 0, bound 1e-6 as for every fixture zip).
    /// </summary>
    [Theory]
    [InlineData("vae-anomaly-complexity", VaeAnomalyScore.InputComplexity)]
    [InlineData("vae-anomaly-ratio", VaeAnomalyScore.LikelihoodRatio)]
    public void CommittedV3Zip_LoadsWithItsCommittedOutputs_AsTodaysBuildGives(string name, VaeAnomalyScore kind)
    {
        string folder = Persistence.PersistenceTests.Folder("v3");
        string zip = Path.Combine(folder, name + ".zip"), expectedFile = Path.Combine(folder, name + ".expected.json");
        var ml = new MLContext(seed: 1);
        var data = Pixels(ml);
        ITransformer Build() => Detector(ml, kind, o => o.BackgroundModelFile = kind == VaeAnomalyScore.LikelihoodRatio ? s_backgroundEncoder : null).Fit(data);
        if (Environment.GetEnvironmentVariable("MLNOTES_WRITE_FIXTURES") == "1" && !File.Exists(zip))
        {
            Directory.CreateDirectory(folder);
            var model = Build();
            ml.Model.Save(model, data.Schema, zip);
            Persistence.OutputTable.Write(expectedFile, name, Persistence.OutputTable.Read(model.Transform(data), new[] { "Image" }));
            Persistence.PersistenceTests.DisposeModel(model);
        }

        var expected = Persistence.OutputTable.Load(expectedFile);
        var fresh = new MLContext(seed: 3);
        var loaded = fresh.Model.Load(zip, out _);
        var fromZip = Persistence.OutputTable.Read(loaded.Transform(Pixels(fresh)), new[] { "Image" });
        Persistence.PersistenceTests.DisposeModel(loaded);
        var today = Build();
        var fromToday = Persistence.OutputTable.Read(today.Transform(data), new[] { "Image" });
        Persistence.PersistenceTests.DisposeModel(today);

        Persistence.OutputTable.AssertEqual(expected, fromZip, 1e-6);
        Persistence.OutputTable.AssertEqual(expected, fromToday, 1e-6);
    }

    [Fact]
    public void LikelihoodRatio_WithoutABackground_IsRefused()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Detector(ml, VaeAnomalyScore.LikelihoodRatio));

        Assert.Equal("BackgroundModelFile", e.ParamName);
        Assert.StartsWith("AnomalyScore LikelihoodRatio needs the background VAE", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VaeAnomalyScore.NegativeLogLikelihood, "BackgroundModelBytes")]
    [InlineData(VaeAnomalyScore.InputComplexity, "BackgroundDecoderModelFile")]
    public void ABackground_ForAnotherScore_IsRefused(VaeAnomalyScore kind, string option)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Detector(ml, kind, o =>
        {
            if (option == "BackgroundModelBytes")
            {
                o.BackgroundModelBytes = File.ReadAllBytes(s_backgroundEncoder);
            }
            else
            {
                o.BackgroundDecoderModelFile = s_backgroundDecoder;
            }
        }));

        Assert.Equal(option, e.ParamName);
        Assert.StartsWith($"{option} is read only by AnomalyScore LikelihoodRatio, and AnomalyScore is {kind}.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABackground_OfOtherPreprocessing_IsRefused_NamingBoth()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Detector(ml, VaeAnomalyScore.LikelihoodRatio,
            o => o.BackgroundModelFile = TestModels.Path(Path.Combine("vae", "tiny_vae_norm_encoder.onnx"))));

        Assert.Equal("BackgroundModelFile", e.ParamName);
        Assert.Contains("tiny_vae_norm_encoder.onnx' does not fit the VAE", e.Message, StringComparison.Ordinal);
        Assert.Contains("its preprocessing is 1 x 8 x 8, resize None 0, crop False, scale 0.00392156862745098, mean [0.5], std [0.25], expected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownScore_IsRefused()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Detector(ml, (VaeAnomalyScore)7));

        Assert.Equal("AnomalyScore", e.ParamName);
        Assert.StartsWith("AnomalyScore must be one of NegativeLogLikelihood, InputComplexity, LikelihoodRatio, got 7.", e.Message, StringComparison.Ordinal);
    }

    private static VaeAnomalyDetectorEstimator Detector(MLContext ml, VaeAnomalyScore kind, Action<VaeAnomalyDetectorEstimator.Options>? change = null)
    {
        var options = new VaeAnomalyDetectorEstimator.Options
        {
            ModelFile = s_encoder,
            DecoderModelFile = s_decoder,
            InputColumnName = "Image",
            AnomalyScore = kind,
            ThresholdPercentile = 50,
            Seed = 4,
            BatchSize = 3,
        };
        change?.Invoke(options);
        return ml.Transforms.DetectAnomaliesVae(options);
    }

    /// <summary>Seven 8 x 8 images on a 1/255 grid: flat, stripes, noise of growing strength (PNG lengths that differ).</summary>
    private static IDataView Pixels(MLContext ml)
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 7).Select(k => new PixelRow
        {
            Image = Enumerable.Range(0, 64).Select(i => MathF.Round(255 * Math.Clamp((((i / 8) + k) % 2 * 0.5f) + (k * 0.07f * (float)random.NextDouble()), 0f, 1f)) / 255).ToArray(),
        }).ToArray();
        return ml.Data.LoadFromEnumerable(rows, Schema());
    }

    private static SchemaDefinition Schema()
    {
        var schema = SchemaDefinition.Create(typeof(PixelRow));
        schema[nameof(PixelRow.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 64);
        return schema;
    }

    /// <summary>The PNG that SkiaSharp writes for the 8 x 8 grey image (the test's own encoding, with the detector's settings).</summary>
    private static byte[] Png(float[] image)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Gray8, SKAlphaType.Opaque));
        var pixels = image.Select(v => (byte)Math.Clamp(Math.Round(v * 255), 0, 255)).ToArray();
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var pixmap = bitmap.PeekPixels();
        using var png = pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 9));
        return png.ToArray();
    }

    private static long PngLength(float[] image) => Png(image).LongLength;

    public sealed class PixelRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();
    }
}
