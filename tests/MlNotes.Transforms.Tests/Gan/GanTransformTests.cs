using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Gan;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Transforms.Tests.Gan;

/// <summary>
/// The GAN transforms on the models-onnx graphs against the PyTorch fixtures (models-onnx/fixtures/gan-fashion-*.json): images
/// and logits within 1e-4; seeded generation the same whatever the batch size; PredictionEngine, Save/Load alike; bad input named.
/// </summary>
public sealed class GanTransformTests
{
    private const int NoiseSize = 64;
    private static readonly string s_generator = RepoPaths.Model("gan-fashion-generator.onnx");
    private static readonly string s_discriminator = RepoPaths.Model("gan-fashion-discriminator.onnx");
    private readonly ITestOutputHelper _output;

    public GanTransformTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Generator_FromTheFixturesNoise_MatchesPyTorch_Within1e4_InTransformPredictionEngineAndALoadedZip()
    {
        var ml = new MLContext(seed: 1);
        var (noise, expected) = GeneratorFixture();
        var data = ml.Data.LoadFromEnumerable(noise.Select(n => new NoiseRow { Noise = n }));
        using var generator = ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options { ModelFile = s_generator, NoiseColumnName = nameof(NoiseRow.Noise), BatchSize = 3 }).Fit(data);
        var output = generator.Transform(data);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 1, 28, 28), output.Schema["Image"].Type);
        Assert.Equal(NoiseSize, generator.NoiseSize);
        Assert.Equal(new[] { 1, 28, 28 }, generator.ImageShape);
        var images = output.GetColumn<float[]>("Image").ToArray();
        double worst = Enumerable.Range(0, noise.Length).Max(i => MaxGap(expected[i], images[i]));
        _output.WriteLine($"largest pixel gap to PyTorch: {worst:G3}");
        Assert.True(worst <= 1e-4, $"pixel gap {worst:G3}"); // measured 1.2e-7 (ONNX Runtime vs PyTorch float32), margin x800

        using (var engine = ml.Model.CreatePredictionEngine<NoiseRow, ImageRow>(generator))
        {
            for (int i = 0; i < noise.Length; i++)
            {
                Assert.Equal(images[i], engine.Predict(new NoiseRow { Noise = noise[i] }).Image);
            }
        }

        using var stream = new MemoryStream();
        ml.Model.Save(generator, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);
        try
        {
            Assert.Equal(images, loaded.Transform(data).GetColumn<float[]>("Image").ToArray());
        }
        finally
        {
            (loaded as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void Generate_IsKeyedByRow_TheSameImagesWhateverTheBatchSize_AndTheSeedMatters()
    {
        var ml = new MLContext(seed: 1);
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<NoiseRow>());
        float[][] Images(int seed, int batch, int count)
        {
            using var generator = ml.Transforms.GenerateImagesGan(s_generator, seed: seed, batchSize: batch).Fit(empty);
            return generator.Generate(count).GetColumn<float[]>("Image").ToArray();
        }

        var reference = Images(7, 64, 10);
        Assert.Equal(10, reference.Length);
        Assert.Equal(reference, Images(7, 1, 10));
        Assert.Equal(reference, Images(7, 3, 10));
        Assert.Equal(reference.Take(4), Images(7, 5, 4));
        var other = Images(8, 64, 10);
        Assert.All(Enumerable.Range(0, 10), i => Assert.NotEqual(reference[i], other[i]));
        Assert.All(reference, image => Assert.All(image, p => Assert.InRange(p, 0f, 1f))); // a sigmoid: the VAE's data range
        Assert.True(reference.Select(r => r.Average()).Distinct().Count() == 10, "ten noise vectors, ten images");

        // The seed defaults to the MLContext's, and the drawn noise is the VAE's: N(0, I) keyed by (seed, row id), through the graph.
        using var seeded = new MLContext(seed: 7).Transforms.GenerateImagesGan(s_generator).Fit(empty);
        Assert.Equal(7, seeded.Seed);
        Assert.Equal(reference, seeded.Generate(10).GetColumn<float[]>("Image").ToArray());
        var noise = Enumerable.Range(0, 3).Select(i =>
        {
            var z = new float[NoiseSize];
            MlNotes.Transforms.Vae.VaeMath.Gaussian(z, 7, new DataViewRowId((ulong)i, 0), 0);
            return z;
        }).ToArray();
        var rows = ml.Data.LoadFromEnumerable(noise.Select(n => new NoiseRow { Noise = n }));
        using var fromNoise = ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options { ModelFile = s_generator, NoiseColumnName = nameof(NoiseRow.Noise) }).Fit(rows);
        Assert.Equal(reference.Take(3), fromNoise.Transform(rows).GetColumn<float[]>("Image").ToArray());
    }

    [Fact]
    public void Discriminator_MatchesPyTorch_OnPixelsAndPngs_AndTheGeneratorsImagesFeedIt()
    {
        var ml = new MLContext(seed: 1);
        var (images, logits, realism, files) = DiscriminatorFixture();
        var data = ml.Data.LoadFromEnumerable(images.Select(p => new PixelRow { Image = p }));
        using var discriminator = ml.Transforms.ScoreRealismGan(s_discriminator, batchSize: 4).Fit(data);
        var output = discriminator.Transform(data);
        var gotLogits = output.GetColumn<float>("RealismLogit").ToArray();
        var gotRealism = output.GetColumn<float>("Realism").ToArray();
        double worst = Enumerable.Range(0, images.Length).Max(i => Math.Abs(logits[i] - gotLogits[i]));
        _output.WriteLine($"largest logit gap to PyTorch: {worst:G3}");
        for (int i = 0; i < images.Length; i++)
        {
            Assert.True(Math.Abs(logits[i] - gotLogits[i]) <= 1e-4, $"image {i}: logit {gotLogits[i]} vs PyTorch {logits[i]}"); // measured 4.8e-7, margin x200
            Assert.True(Math.Abs(realism[i] - gotRealism[i]) <= 1e-5, $"image {i}: realism {gotRealism[i]} vs PyTorch {realism[i]}");
        }

        // The subset's PNGs through LoadImages (the manifest's / 255) give the same logits as their pixels.
        var paths = ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = f }));
        var loadedImages = ml.Transforms.LoadImages("Image", RepoPaths.ModelsOnnx, nameof(PathRow.Path)).Fit(paths).Transform(paths);
        using var fromPng = ml.Transforms.ScoreRealismGan(s_discriminator).Fit(loadedImages);
        Assert.Equal(gotLogits.Take(files.Length), fromPng.Transform(loadedImages).GetColumn<float>("RealismLogit").ToArray());

        using (var engine = ml.Model.CreatePredictionEngine<PixelRow, RealismRow>(discriminator))
        {
            for (int i = 0; i < images.Length; i++)
            {
                var row = engine.Predict(new PixelRow { Image = images[i] });
                Assert.Equal((gotLogits[i], gotRealism[i]), (row.RealismLogit, row.Realism));
            }
        }

        // Generator -> discriminator in one pipeline: rows 5-8 of the fixture are the generator fixture's images.
        var (noise, _) = GeneratorFixture();
        var noiseRows = ml.Data.LoadFromEnumerable(noise.Select(n => new NoiseRow { Noise = n }));
        var chain = ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options { ModelFile = s_generator, NoiseColumnName = nameof(NoiseRow.Noise) })
            .Append(ml.Transforms.ScoreRealismGan(s_discriminator));
        using var model = chain.Fit(noiseRows);
        var chained = model.Transform(noiseRows).GetColumn<float>("RealismLogit").ToArray();
        Assert.All(Enumerable.Range(0, noise.Length), i => Assert.True(Math.Abs(logits[5 + i] - chained[i]) <= 1e-4, $"generated {i}: {chained[i]} vs {logits[5 + i]}"));

        using var stream = new MemoryStream();
        ml.Model.Save(discriminator, data.Schema, stream);
        stream.Position = 0;
        var reloaded = new MLContext().Model.Load(stream, out _);
        try
        {
            Assert.Equal(gotRealism, reloaded.Transform(data).GetColumn<float>("Realism").ToArray());
        }
        finally
        {
            (reloaded as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void BadInputAndMisuse_AreNamed()
    {
        var ml = new MLContext(seed: 1);
        var shortNoise = ml.Data.LoadFromEnumerable(new[] { new ShortRow { Values = new float[10] } });
        var noise = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options { ModelFile = s_generator, NoiseColumnName = nameof(ShortRow.Values) }).Fit(shortNoise));
        Assert.Contains("'Values'", noise.Message, StringComparison.Ordinal);
        Assert.Contains("64 Single values", noise.Message, StringComparison.Ordinal);
        Assert.Contains("Vector<Single, 10>", noise.Message, StringComparison.Ordinal);

        var pixels = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ScoreRealismGan(s_discriminator, inputColumnName: nameof(ShortRow.Values)).Fit(shortNoise));
        Assert.Contains("784 values: 1 x 28 x 28", pixels.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ScoreRealismGan(s_discriminator).Fit(shortNoise));
        Assert.Equal("Could not find input column 'Image'. (Parameter 'schema')", missing.Message);

        // A variable-size noise column passes the schema check; a row of the wrong length fails naming the column and the row.
        var ragged = ml.Data.LoadFromEnumerable(new[] { new VarRow { Values = new float[NoiseSize] }, new VarRow { Values = new float[3] } });
        using (var generator = ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options { ModelFile = s_generator, NoiseColumnName = nameof(VarRow.Values), BatchSize = 1 }).Fit(ragged))
        {
            var row = Assert.Throws<InvalidOperationException>(() => generator.Transform(ragged).GetColumn<float[]>("Image").ToArray());
            Assert.Equal("Column 'Values' at row position 1: expected 64 noise values, got 3.", row.Message);
            Assert.Throws<InvalidOperationException>(() => generator.Generate(3));
        }

        // The wrong manifest family, the wrong graph, empty names, a bad count: refused when the pipeline is built.
        var family = Assert.Throws<NotSupportedException>(() => ml.Transforms.ScoreRealismGan(new GanDiscriminatorEstimator.Options { ModelFile = s_discriminator, ManifestFile = RepoPaths.Model("gan-fashion-generator.json") }));
        Assert.Contains("family 'gan-generator'", family.Message, StringComparison.Ordinal);
        Assert.Contains("gan-discriminator", family.Message, StringComparison.Ordinal);
        var graph = Assert.Throws<InvalidOperationException>(() => ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options { ModelFile = s_discriminator, ManifestFile = RepoPaths.Model("gan-fashion-generator.json") }));
        Assert.Contains("gan-fashion-discriminator.onnx", graph.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.GenerateImagesGan(s_generator, outputColumnName: ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.GenerateImagesGan(s_generator, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ScoreRealismGan(new GanDiscriminatorEstimator.Options { ModelFile = s_discriminator, LogitColumnName = "Realism" }));

        var empty = ml.Data.LoadFromEnumerable(Array.Empty<NoiseRow>());
        var disposed = ml.Transforms.GenerateImagesGan(s_generator).Fit(empty);
        Assert.Throws<ArgumentOutOfRangeException>(() => disposed.Generate(0));
        disposed.Dispose();
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.Generate(2));
    }

    internal static (float[][] Noise, float[][] Images) GeneratorFixture()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "gan-fashion-generator.json"))));
        float[] noise = Data(fixture.RootElement.GetProperty("inputs").GetProperty("noise"));
        float[] images = Data(fixture.RootElement.GetProperty("outputs").GetProperty("image"));
        return (Rows(noise, NoiseSize), Rows(images, 784));
    }

    private static (float[][] Images, float[] Logits, float[] Realism, string[] Files) DiscriminatorFixture()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "gan-fashion-discriminator.json"))));
        var root = fixture.RootElement;
        return (Rows(Data(root.GetProperty("inputs").GetProperty("image")), 784), Data(root.GetProperty("outputs").GetProperty("logit")),
            Data(root.GetProperty("realism")), root.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    private static float[] Data(JsonElement tensor) => tensor.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();

    private static float[][] Rows(float[] flat, int size) => Enumerable.Range(0, flat.Length / size).Select(i => flat.AsSpan(i * size, size).ToArray()).ToArray();

    private static double MaxGap(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    private sealed class NoiseRow
    {
        [VectorType(NoiseSize)]
        public float[] Noise { get; set; } = Array.Empty<float>();
    }

    private sealed class ImageRow
    {
        [VectorType(1, 28, 28)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class PixelRow
    {
        [VectorType(784)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class RealismRow
    {
        public float RealismLogit { get; set; }

        public float Realism { get; set; }
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    private sealed class ShortRow
    {
        [VectorType(10)]
        public float[] Values { get; set; } = Array.Empty<float>();
    }

    private sealed class VarRow
    {
        public float[] Values { get; set; } = Array.Empty<float>();
    }
}
