using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.VqVae;
using Xunit;

namespace MlNotes.Transforms.Tests.VqVae;

/// <summary>
/// The VQ-VAE transforms on the models-onnx graphs against the PyTorch fixtures (models-onnx/fixtures/vqvae-fashion-*.json): codes
/// exactly PyTorch's indices, code vectors the codebook's rows, reconstructions and per-row errors within 1e-4; PredictionEngine,
/// Save/Load and batch sizes alike; bad input named.
/// </summary>
public sealed class VqVaeTransformTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public VqVaeTransformTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    private const int CodeCount = 64;
    private const int Positions = 49;
    private static readonly string s_encoder = RepoPaths.Model("vqvae-fashion-encoder.onnx");
    private static readonly string s_decoder = RepoPaths.Model("vqvae-fashion-decoder.onnx");

    [Fact]
    public void Codes_AreExactlyPyTorchsIndices_AndCodeVectorsTheCodebookRows_ForPixelsAndPngs()
    {
        var ml = new MLContext(seed: 1);
        var (pixels, indices, quantized, files) = Fixture();
        var data = ml.Data.LoadFromEnumerable(pixels.Select(p => new PixelRow { Image = p }));
        using var encoder = ml.Transforms.EncodeVqVae(new VqVaeEncoderEstimator.Options { ModelFile = s_encoder, CodeVectorsColumnName = "CodeVectors", LatentsColumnName = "Latents", BatchSize = 2 }).Fit(data);
        var output = encoder.Transform(data);

        Assert.Equal(new VectorDataViewType(new KeyDataViewType(typeof(uint), CodeCount), Positions), output.Schema["Codes"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 7, 7, 16), output.Schema["CodeVectors"].Type);
        Assert.Equal((CodeCount, 16), (encoder.CodebookSize, encoder.CodeSize));
        var codes = output.GetColumn<VBuffer<uint>>("Codes").Select(v => v.DenseValues().ToArray()).ToArray();
        var vectors = output.GetColumn<float[]>("CodeVectors").ToArray();
        var latents = output.GetColumn<float[]>("Latents").ToArray();
        float[] torchLatents = Latents();
        _output.WriteLine($"largest latent gap to PyTorch: {Enumerable.Range(0, pixels.Length).Max(i => MaxGap(torchLatents.AsSpan(i * Positions * 16, Positions * 16).ToArray(), latents[i])):G3}");
        for (int i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(indices.Skip(i * Positions).Take(Positions).Select(k => (uint)k + 1), codes[i]); // key = index + 1
            Assert.Equal(quantized.Skip(i * Positions * 16).Take(Positions * 16), vectors[i]);
            double gap = MaxGap(torchLatents.AsSpan(i * Positions * 16, Positions * 16).ToArray(), latents[i]);
            Assert.True(gap <= 1e-4, $"image {i}: latents {gap:G3} from PyTorch's"); // measured 3.6e-7 (ONNX Runtime vs PyTorch), margin x280
        }

        // The same images as PNGs through LoadImages: the manifest's preprocessing (grey, / 255) gives the same codes.
        var paths = ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = f }));
        var images = ml.Transforms.LoadImages("Image", RepoPaths.ModelsOnnx, nameof(PathRow.Path)).Fit(paths).Transform(paths);
        using var fromPng = ml.Transforms.EncodeVqVae(s_encoder).Fit(images);
        Assert.Equal(codes, fromPng.Transform(images).GetColumn<VBuffer<uint>>("Codes").Select(v => v.DenseValues().ToArray()).ToArray());
    }

    [Fact]
    public void DecodeAndReconstruct_MatchPyTorch_Within1e4_AndEveryWayOfScoringAgrees()
    {
        var ml = new MLContext(seed: 1);
        var (pixels, indices, _, _) = Fixture();
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vqvae-fashion-decoder.json"))));
        float[] expected = Data(fixture.RootElement.GetProperty("outputs").GetProperty("reconstruction"));
        float[] mse = Data(fixture.RootElement.GetProperty("reconstruction_mse"));
        var codeRows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, pixels.Length).Select(i => new CodesRow { Codes = indices.Skip(i * Positions).Take(Positions).Select(k => (uint)k + 1).ToArray() }));
        using var decoder = ml.Transforms.DecodeVqVae(s_decoder, batchSize: 2).Fit(codeRows);
        var decoded = decoder.Transform(codeRows).GetColumn<float[]>("Reconstruction").ToArray();

        var data = ml.Data.LoadFromEnumerable(pixels.Select(p => new PixelRow { Image = p }));
        using var reconstructor = ml.Transforms.ReconstructVqVae(s_encoder, batchSize: 3).Fit(data);
        var output = reconstructor.Transform(data);
        var reconstructed = output.GetColumn<float[]>("Reconstruction").ToArray();
        var errors = output.GetColumn<float>("ReconstructionError").ToArray();
        _output.WriteLine($"largest gaps to PyTorch: decode {Enumerable.Range(0, pixels.Length).Max(i => MaxGap(expected.AsSpan(i * 784, 784).ToArray(), decoded[i])):G3}, "
            + $"reconstruct {Enumerable.Range(0, pixels.Length).Max(i => MaxGap(expected.AsSpan(i * 784, 784).ToArray(), reconstructed[i])):G3}, MSE {Enumerable.Range(0, pixels.Length).Max(i => Math.Abs(mse[i] - errors[i])):G3}");
        for (int i = 0; i < pixels.Length; i++)
        {
            var want = expected.AsSpan(i * 784, 784).ToArray();
            Assert.True(MaxGap(want, decoded[i]) <= 1e-4, $"image {i}: decode gap {MaxGap(want, decoded[i]):G3}"); // measured 2.1e-7, margin x480
            Assert.True(MaxGap(want, reconstructed[i]) <= 1e-4, $"image {i}: reconstruct gap {MaxGap(want, reconstructed[i]):G3}");
            Assert.True(Math.Abs(mse[i] - errors[i]) <= 1e-4, $"image {i}: MSE {errors[i]} vs PyTorch {mse[i]}"); // measured 3.7e-9
        }

        // A PredictionEngine (batches of one) and a saved and loaded model give the same rows, bit for bit.
        using (var engine = ml.Model.CreatePredictionEngine<PixelRow, ReconstructedRow>(reconstructor))
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                var row = engine.Predict(new PixelRow { Image = pixels[i] });
                Assert.Equal(reconstructed[i], row.Reconstruction);
                Assert.Equal(errors[i], row.ReconstructionError);
                Assert.Equal(indices.Skip(i * Positions).Take(Positions).Select(k => (uint)k + 1), row.Codes);
            }
        }

        using var stream = new MemoryStream();
        ml.Model.Save(decoder, codeRows.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out _);
        try
        {
            Assert.Equal(decoded, loaded.Transform(codeRows).GetColumn<float[]>("Reconstruction").ToArray());
        }
        finally
        {
            (loaded as IDisposable)?.Dispose();
        }

        decoder.Dispose();
        Assert.Throws<ObjectDisposedException>(() => decoder.Transform(codeRows).GetColumn<float[]>("Reconstruction").ToArray());
    }

    [Fact]
    public void BadInput_IsNamed_AtBuildTimeOrWithTheRow()
    {
        var ml = new MLContext(seed: 1);
        var shortPixels = ml.Data.LoadFromEnumerable(new[] { new ShortPixelRow { Image = new float[10] } });
        var size = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EncodeVqVae(s_encoder).Fit(shortPixels));
        Assert.Contains("Image", size.Message, StringComparison.Ordinal);
        Assert.Contains("784 values", size.Message, StringComparison.Ordinal);
        Assert.Contains("Vector<Single, 10>", size.Message, StringComparison.Ordinal);

        var wrongKeys = ml.Data.LoadFromEnumerable(new[] { new FewKeysRow { Codes = new uint[Positions] } });
        var keys = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DecodeVqVae(s_decoder).Fit(wrongKeys));
        Assert.Contains("key count 64", keys.Message, StringComparison.Ordinal);
        Assert.Contains("Key<UInt32, 0-9>", keys.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DecodeVqVae(s_decoder, inputColumnName: "Nope").Fit(wrongKeys));

        var good = Enumerable.Repeat(1u, Positions).ToArray();
        var missing = good.ToArray();
        missing[5] = 0;
        var outOfRange = good.ToArray();
        outOfRange[48] = CodeCount + 1;
        var rows = ml.Data.LoadFromEnumerable(new[] { new CodesRow { Codes = good }, new CodesRow { Codes = missing }, new CodesRow { Codes = outOfRange } });
        using var decoder = ml.Transforms.DecodeVqVae(s_decoder, batchSize: 1).Fit(rows);
        var ex = Assert.Throws<InvalidOperationException>(() => decoder.Transform(rows).GetColumn<float[]>("Reconstruction").ToArray());
        Assert.Equal("Column 'Codes' at row position 1, grid position 5: expected a key in 1..64 (code index 0..63), got the missing key (0).", ex.Message);
        var range = Assert.Throws<InvalidOperationException>(() => decoder.Transform(ml.Data.SkipRows(rows, 2)).GetColumn<float[]>("Reconstruction").ToArray());
        Assert.Equal("Column 'Codes' at row position 0, grid position 48: expected a key in 1..64 (code index 0..63), got key 65, out of range.", range.Message);

        // NaN pixels: no code is nearest, so every position gets ML.NET's missing key and the error is NaN (not code 0 in silence).
        var nan = ml.Data.LoadFromEnumerable(new[] { new PixelRow { Image = Enumerable.Repeat(float.NaN, 784).ToArray() } });
        using var reconstructor = ml.Transforms.ReconstructVqVae(s_encoder).Fit(nan);
        var scored = reconstructor.Transform(nan);
        Assert.All(scored.GetColumn<VBuffer<uint>>("Codes").Single().DenseValues(), k => Assert.Equal(0u, k));
        Assert.True(float.IsNaN(scored.GetColumn<float>("ReconstructionError").Single()));

        var noOutput = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EncodeVqVae(new VqVaeEncoderEstimator.Options { ModelFile = s_encoder, CodesColumnName = null }));
        Assert.Contains("CodesColumnName", noOutput.Message, StringComparison.Ordinal);
    }

    private static (float[][] Pixels, int[] Indices, float[] Quantized, string[] Files) Fixture()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vqvae-fashion-encoder.json"))));
        var root = fixture.RootElement;
        float[] flat = Data(root.GetProperty("inputs").GetProperty("image"));
        var pixels = Enumerable.Range(0, flat.Length / 784).Select(i => flat.AsSpan(i * 784, 784).ToArray()).ToArray();
        int[] indices = root.GetProperty("indices").GetProperty("data").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        string[] files = root.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray();
        return (pixels, indices, Data(root.GetProperty("quantized")), files);
    }

    private static float[] Latents()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vqvae-fashion-encoder.json"))));
        return Data(fixture.RootElement.GetProperty("outputs").GetProperty("latents"));
    }

    private static float[] Data(JsonElement tensor) => tensor.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();

    private static double MaxGap(float[] a, float[] b) => a.Zip(b).Max(p => Math.Abs(p.First - p.Second));

    private sealed class PixelRow
    {
        [VectorType(784)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class ShortPixelRow
    {
        [VectorType(10)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    private sealed class CodesRow
    {
        [KeyType(CodeCount)]
        [VectorType(Positions)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();
    }

    private sealed class FewKeysRow
    {
        [KeyType(10)]
        [VectorType(Positions)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();
    }

    private sealed class ReconstructedRow
    {
        [KeyType(CodeCount)]
        [VectorType(Positions)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();

        [VectorType(1, 28, 28)]
        public float[] Reconstruction { get; set; } = Array.Empty<float>();

        public float ReconstructionError { get; set; }
    }
}
