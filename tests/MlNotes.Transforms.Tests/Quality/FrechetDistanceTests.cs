using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Quality;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Transforms.Tests.Quality;

/// <summary>
/// <c>ComputeFrechetDistance</c>: the known answer of NumPy and SciPy's <c>sqrtm</c> (pytorch-fid's computation) on fixed vectors
/// (TestModels/frechet, written by make_frechet_fixture.py), identical sets at 0, and the metric itself in the bundled ViT's
/// embedding space: real test images against real training images close, noise far.
/// </summary>
public sealed class FrechetDistanceTests
{
    private readonly ITestOutputHelper _output;

    public FrechetDistanceTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Distance_EqualsSciPysSqrtmAnswer_IsSymmetric_AndZeroForIdenticalSets()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(TestModels.Path(Path.Combine("frechet", "frechet_expected.json"))));
        var root = fixture.RootElement;
        float[][] Set(string name) => root.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        var ml = new MLContext(seed: 1);
        var a = ml.Data.LoadFromEnumerable(Set("a").Select(v => new EmbeddingRow { Embedding = v }));
        var b = ml.Data.LoadFromEnumerable(Set("b").Select(v => new EmbeddingRow { Embedding = v }));
        double expected = root.GetProperty("distance").GetProperty("a_b").GetDouble();
        double ab = ml.Data.ComputeFrechetDistance(a, b), ba = ml.Data.ComputeFrechetDistance(b, a), aa = ml.Data.ComputeFrechetDistance(a, a);
        _output.WriteLine($"a-b {ab:R} (SciPy {expected:R}, gap {Math.Abs(ab - expected):G3}), b-a {ba:R}, a-a {aa:G3}");
        Assert.True(Math.Abs(ab - expected) <= 1e-9 * expected, $"{ab:R} vs SciPy {expected:R}"); // measured 2.9e-16 relative (1.8e-15 absolute: double rounding), margin 10^6
        Assert.True(Math.Abs(ba - ab) <= 1e-12 * ab);
        Assert.True(Math.Abs(aa) <= 1e-10, $"identical sets: {aa:G3}"); // measured -1.8e-15

        // The pieces by hand: a shift of the mean by v adds ||v||^2 and nothing else.
        var rows = Matrix<double>.Build.DenseOfRowArrays(Set("a").Select(r => r.Select(v => (double)v).ToArray()));
        var (mean, covariance) = FrechetDistance.Moments(rows);
        var shift = Vector<double>.Build.Dense(mean.Count, i => i + 1);
        Assert.Equal(shift.DotProduct(shift), FrechetDistance.Distance(mean, covariance, mean + shift, covariance), 9);
    }

    [Fact]
    public void InTheVitsEmbedding_RealTestAgainstRealTrain_IsSmall_AndNoiseIsLarge()
    {
        var ml = new MLContext(seed: 1);
        using var vit = ml.Transforms.ClassifyImageOnnx(RepoPaths.Model("vit-fashion.onnx")).Fit(Images(ml, RepoPaths.FashionSubset));
        // 1,000 test and 1,000 training images, 300 of uniform noise; each view's embeddings computed once (Cache).
        var test = ml.Data.Cache(vit.Transform(ml.Data.TakeRows(Images(ml, RepoPaths.FashionSubset), 1000)), "Embedding");
        var train = ml.Data.Cache(vit.Transform(Images(ml, Path.Combine(RepoPaths.ModelsOnnx, "data", "fashion-mnist-train-subset"))), "Embedding");
        var random = new Random(3);
        var noiseRows = Enumerable.Range(0, 300).Select(_ => new PixelRow { Image = Enumerable.Range(0, 784).Select(_ => (float)(random.NextDouble() * 255)).ToArray() });
        var noise = ml.Data.Cache(vit.Transform(ml.Data.LoadFromEnumerable(noiseRows)), "Embedding");

        double real = ml.Data.ComputeFrechetDistance(test, train);
        double noisy = ml.Data.ComputeFrechetDistance(test, noise);
        double self = ml.Data.ComputeFrechetDistance(test, test);
        _output.WriteLine($"test vs train {real:F3}, test vs noise {noisy:F3}, test vs itself {self:G3}");
        Assert.True(Math.Abs(self) < 1e-6, $"identical: {self}"); // measured -2.4e-13 (double sums)
        Assert.True(real < 1.5, $"real against real: {real}"); // measured 0.395 (1,000 test against 1,000 training images)
        Assert.True(noisy > 50 * real, $"noise {noisy} against real {real}"); // measured 89 against 0.395
    }

    [Fact]
    public void BadInput_IsNamed()
    {
        var ml = new MLContext(seed: 1);
        var a = ml.Data.LoadFromEnumerable(new[] { new EmbeddingRow { Embedding = new float[6] }, new EmbeddingRow { Embedding = new float[6] } });
        var one = ml.Data.LoadFromEnumerable(new[] { new EmbeddingRow { Embedding = new float[6] } });
        var nan = ml.Data.LoadFromEnumerable(new[] { new EmbeddingRow { Embedding = new float[6] }, new EmbeddingRow { Embedding = new[] { 0f, 0, float.NaN, 0, 0, 0 } } });
        var other = ml.Data.LoadFromEnumerable(new[] { new WideRow(), new WideRow() });
        Assert.Equal("Could not find input column 'Nope'. (Parameter 'real')", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Data.ComputeFrechetDistance(a, a, "Nope")).Message);
        Assert.Contains("a covariance needs at least 2", Assert.Throws<InvalidOperationException>(() => ml.Data.ComputeFrechetDistance(a, one)).Message, StringComparison.Ordinal);
        Assert.Equal("Column 'Embedding' of the generated view at row position 1: value 2 is NaN; the Fréchet distance needs finite embeddings.",
            Assert.Throws<InvalidOperationException>(() => ml.Data.ComputeFrechetDistance(a, nan)).Message);
        Assert.Contains("embeddings of 6 values, as in the real view", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Data.ComputeFrechetDistance(a, other)).Message, StringComparison.Ordinal);
        var text = ml.Data.LoadFromEnumerable(new[] { new TextRow(), new TextRow() });
        Assert.Contains("known-size vector of Single", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Data.ComputeFrechetDistance(text, a)).Message, StringComparison.Ordinal);
    }

    private static IDataView Images(MLContext ml, string folder)
    {
        var paths = ml.Data.LoadFromTextFile<PathRow>(Path.Combine(folder, "labels.csv"), separatorChar: ',', hasHeader: true);
        return ml.Transforms.LoadImages("Image", folder, nameof(PathRow.ImagePath)).Fit(paths).Transform(paths);
    }

    private sealed class EmbeddingRow
    {
        [VectorType(6)]
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private sealed class WideRow
    {
        [VectorType(7)]
        public float[] Embedding { get; set; } = new float[7];
    }

    private sealed class TextRow
    {
        public string Embedding { get; set; } = "x";
    }

    private sealed class PixelRow
    {
        [VectorType(784)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class PathRow
    {
        [LoadColumn(0)]
        public string ImagePath { get; set; } = "";
    }
}
