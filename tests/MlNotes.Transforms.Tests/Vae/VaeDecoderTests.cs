using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using static MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests;

namespace MlNotes.Transforms.Tests.Vae;

public sealed class VaeDecoderTests
{
    [Fact]
    public void Reconstruction_IsSigmoidOfPyTorchLogits_WithTheImageShape()
    {
        var ml = new MLContext(seed: 1);
        var data = Latents(ml, VaeFixture.Decoder("inputs", "z"));
        using var decoder = ml.Transforms.DecodeVae(VaeFixture.DecoderFile, batchSize: 2).Fit(data);

        var output = decoder.Transform(data);
        var reconstructions = output.GetColumn<float[]>("Reconstruction").ToArray();

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 1, 28, 28), output.Schema["Reconstruction"].Type);
        Assert.Equal(new[] { 1, 28, 28 }, decoder.ReconstructionShape);
        var logits = VaeFixture.Decoder("outputs", "logits");
        for (int i = 0; i < reconstructions.Length; i++)
        {
            AssertClose(VaeFixture.Row(logits, i, VaeFixture.ImageSize).Select(VaeFixture.Sigmoid).ToArray(), reconstructions[i], 1e-4f);
        }
    }

    [Fact]
    public void PriorSamplesAndInterpolation_AreDecodedLazily_AndRepeatForASeed()
    {
        var ml = new MLContext(seed: 1);
        var data = Latents(ml, VaeFixture.Decoder("inputs", "z"));
        using var decoder = ml.Transforms.DecodeVae(VaeFixture.DecoderFile).Fit(data);

        var samples = decoder.SampleFromPrior(6, seed: 5);
        var again = decoder.SampleFromPrior(6, seed: 5).GetColumn<float[]>("Reconstruction").ToArray();
        var other = decoder.SampleFromPrior(6, seed: 6).GetColumn<float[]>("Reconstruction").ToArray();
        var pixels = samples.GetColumn<float[]>("Reconstruction").ToArray();
        var z = VaeFixture.Decoder("inputs", "z");
        var start = VaeFixture.Row(z, 0, VaeFixture.LatentSize);
        var end = VaeFixture.Row(z, 1, VaeFixture.LatentSize);
        var line = decoder.Interpolate(start, end, 5);
        var alphas = line.GetColumn<float>("Alpha").ToArray();
        var frames = line.GetColumn<float[]>("Reconstruction").ToArray();

        Assert.Equal(6, pixels.Length);
        Assert.All(pixels, p => Assert.All(p, v => Assert.InRange(v, 0f, 1f)));
        Assert.Equal(pixels, again);
        Assert.NotEqual(pixels[0], other[0]);
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f }, alphas);
        var logits = VaeFixture.Decoder("outputs", "logits");
        AssertClose(VaeFixture.Row(logits, 0, VaeFixture.ImageSize).Select(VaeFixture.Sigmoid).ToArray(), frames[0], 1e-4f);
        AssertClose(VaeFixture.Row(logits, 1, VaeFixture.ImageSize).Select(VaeFixture.Sigmoid).ToArray(), frames[4], 1e-4f);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Interpolate(start, end, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.SampleFromPrior(0, 1));
        var shortVector = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Interpolate(start.AsSpan(0, 3), end, 3));
        Assert.StartsWith($"Interpolation needs two latent vectors of {VaeFixture.LatentSize} values, got 3 and {VaeFixture.LatentSize}.", shortVector.Message);
    }

    [Fact]
    public void EncodeThenDecode_InOnePipeline_SavesAndLoadsIdentically()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = VaeFixture.PixelRows(ml);
        var pipeline = ml.Transforms.EncodeVae(VaeFixture.EncoderFile)
            .Append(ml.Transforms.DecodeVae(VaeFixture.DecoderFile, inputColumnName: "LatentMean"));
        var model = pipeline.Fit(data);
        var expected = model.Transform(data).GetColumn<float[]>("Reconstruction").ToArray();
        string zip = temp.File("vae.zip");
        ml.Model.Save(model, data.Schema, zip);
        foreach (var t in model)
        {
            (t as IDisposable)?.Dispose();
        }

        var loaded = new MLContext().Model.Load(zip, out _);
        var actual = loaded.Transform(data).GetColumn<float[]>("Reconstruction").ToArray();

        Assert.Equal(expected, actual);
        foreach (var t in (TransformerChain<ITransformer>)loaded)
        {
            (t as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void LatentOfTheWrongSize_IsRefusedWhenThePipelineIsBuilt()
    {
        var ml = new MLContext(seed: 1);
        var data = Latents(ml, new float[8], size: 8);
        var estimator = ml.Transforms.DecodeVae(VaeFixture.DecoderFile);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Contains($"Schema mismatch for input column 'Latent': expected a vector of {VaeFixture.LatentSize} Single values (the decoder's latent size), got Vector<Single, 8>", e.Message);
    }

    private static IDataView Latents(MLContext ml, float[] flat, int size = 16)
    {
        var rows = Enumerable.Range(0, flat.Length / size).Select(i => new LatentRow { Latent = VaeFixture.Row(flat, i, size) });
        var schema = SchemaDefinition.Create(typeof(LatentRow));
        schema[nameof(LatentRow.Latent)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    public sealed class LatentRow
    {
        public float[] Latent { get; set; } = Array.Empty<float>();
    }
}
