using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vae;
using Xunit;
using static MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests;

namespace MlNotes.Transforms.Tests.Vae;

public sealed class VaeEncoderTests
{
    private const float Tolerance = 1e-4f;

    [Fact]
    public void PixelVectors_MeanLogVarianceAndLatent_EqualPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        using var encoder = ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options
        {
            ModelFile = VaeFixture.EncoderFile,
            NoiseColumnName = "Eps",
            BatchSize = 2,
        }).Fit(data);

        var output = encoder.Transform(data);

        int n = VaeFixture.LatentSize;
        var means = output.GetColumn<float[]>("LatentMean").ToArray();
        var logVariances = output.GetColumn<float[]>("LatentLogVariance").ToArray();
        var latents = output.GetColumn<float[]>("Latent").ToArray();
        Assert.Equal(VaeFixture.Rows, means.Length);
        for (int i = 0; i < VaeFixture.Rows; i++)
        {
            AssertClose(VaeFixture.Row(VaeFixture.Encoder("outputs", "mean"), i, n), means[i], Tolerance);
            AssertClose(VaeFixture.Row(VaeFixture.Encoder("outputs", "logvar"), i, n), logVariances[i], Tolerance);
            AssertClose(VaeFixture.Row(VaeFixture.Encoder("z", null), i, n), latents[i], Tolerance);
        }
    }

    [Fact]
    public void Pngs_ThroughLoadImages_EqualPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VaeFixture.ImageFiles.Select(f => new ImagePathRow { ImagePath = f }));
        var pipeline = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(ImagePathRow.ImagePath))
            .Append(ml.Transforms.EncodeVae(VaeFixture.EncoderFile));
        var model = pipeline.Fit(data);

        var means = model.Transform(data).GetColumn<float[]>("LatentMean").ToArray();

        for (int i = 0; i < VaeFixture.Rows; i++)
        {
            AssertClose(VaeFixture.Row(VaeFixture.Encoder("outputs", "mean"), i, VaeFixture.LatentSize), means[i], Tolerance);
        }

        model.LastTransformer.Dispose();
    }

    [Fact]
    public void SeededLatents_RepeatAcrossBatchSizesAndRuns_AndSeveralSamplesPerRow()
    {
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        float[][] Latents(int batchSize, int seed, int samples)
        {
            using var encoder = ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options { ModelFile = VaeFixture.EncoderFile, BatchSize = batchSize, Seed = seed, SampleCount = samples }).Fit(data);
            return encoder.Transform(data).GetColumn<float[]>("Latent").ToArray();
        }

        var a = Latents(1, 7, 1);
        var b = Latents(4, 7, 1);
        var c = Latents(4, 8, 1);
        var three = Latents(2, 7, 3);

        Assert.Equal(a, b);
        Assert.NotEqual(a[0], c[0]);
        Assert.Equal(3 * VaeFixture.LatentSize, three[0].Length);
        Assert.Equal(a[0], three[0].Take(VaeFixture.LatentSize).ToArray());
        Assert.NotEqual(three[0].Take(VaeFixture.LatentSize), three[0].Skip(VaeFixture.LatentSize).Take(VaeFixture.LatentSize));
    }

    [Fact]
    public void SchemaPredictionEngineSaveLoadAndDispose()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 3);
        var data = VaeFixture.PixelRows(ml);
        var encoder = ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options { ModelFile = VaeFixture.EncoderFile, SampleCount = 2 }).Fit(data);
        var schema = encoder.GetOutputSchema(data.Schema);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 2, VaeFixture.LatentSize), schema["Latent"].Type);
        Assert.Equal(3, encoder.Seed);
        var expected = encoder.Transform(data).GetColumn<float[]>("Latent").ToArray();
        var engine = ml.Model.CreatePredictionEngine<VaeFixture.PixelRow, LatentRow>(encoder, inputSchemaDefinition: VaeFixture.SchemaFor(VaeFixture.ImageSize, VaeFixture.LatentSize));
        var first = ml.Data.CreateEnumerable<VaeFixture.PixelRow>(data, reuseRowObject: false).First();
        AssertClose(encoder.Transform(data).GetColumn<float[]>("LatentMean").First(), engine.Predict(first).LatentMean, 0f);

        string zip = temp.File("encoder.zip");
        ml.Model.Save(encoder, data.Schema, zip);
        encoder.Dispose();
        var fresh = new MLContext(seed: 99);
        var loaded = fresh.Model.Load(zip, out _);

        Assert.Equal(expected, loaded.Transform(data).GetColumn<float[]>("Latent").ToArray());
        // The engine is an owner too (it disposes the model it was made on): the encoder stays usable until it goes.
        Assert.Equal(expected, encoder.Transform(data).GetColumn<float[]>("Latent").ToArray());
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => encoder.Transform(data));
        (loaded as IDisposable)?.Dispose();
    }

    [Fact]
    public void BadInputs_AreRefusedWhenThePipelineIsBuilt()
    {
        var ml = new MLContext(seed: 1);
        var wrongSize = ml.Data.LoadFromEnumerable(new[] { new VaeFixture.PixelRow { Image = new float[10], Eps = new float[16] } }, VaeFixture.SchemaFor(10, 16));
        var estimator = ml.Transforms.EncodeVae(VaeFixture.EncoderFile);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(wrongSize));
        Assert.Contains("Schema mismatch for input column 'Image': expected an image (MLImage) or a Single vector of preprocessed pixels (784 values: 1 x 28 x 28, CHW, in the model's units), got Vector<Single, 10>", e.Message);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EncodeVae(VaeFixture.EncoderFile, inputColumnName: "Pixels").Fit(wrongSize));
        Assert.Contains("Could not find input column 'Pixels'.", missing.Message);
        var samples = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options { ModelFile = VaeFixture.EncoderFile, SampleCount = 0 }));
        Assert.StartsWith("SampleCount must be at least 1, got 0.", samples.Message);
        Assert.Throws<FileNotFoundException>(() => ml.Transforms.EncodeVae("no-such-encoder.onnx"));
        var noise = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options { ModelFile = VaeFixture.EncoderFile, NoiseColumnName = "Eps", SampleCount = 2 }).Fit(VaeFixture.PixelRows(ml)));
        Assert.Contains("Schema mismatch for input column 'Eps': expected a vector of 32 Single values (noise (latent size x samples)), got Vector<Single, 16>", noise.Message);
    }

    [Fact]
    public void NaNPixels_GiveNaNLatents()
    {
        var ml = new MLContext(seed: 1);
        var nan = Enumerable.Repeat(float.NaN, VaeFixture.ImageSize).ToArray();
        var data = ml.Data.LoadFromEnumerable(new[] { new VaeFixture.PixelRow { Image = nan, Eps = new float[16] } }, VaeFixture.SchemaFor(VaeFixture.ImageSize, 16));
        using var encoder = ml.Transforms.EncodeVae(VaeFixture.EncoderFile).Fit(data);

        var mean = encoder.Transform(data).GetColumn<float[]>("LatentMean").Single();

        Assert.All(mean, v => Assert.True(float.IsNaN(v)));
    }

    public sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class LatentRow
    {
        public float[] LatentMean { get; set; } = Array.Empty<float>();
    }
}
