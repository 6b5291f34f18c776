using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Tests.Persistence;

/// <summary>The VQ-VAE fixture components' rows: three images of models-onnx/fixtures/vqvae-fashion-encoder.json, and codes.</summary>
internal static class VqVaeFixtureRows
{
    public static PixelRow[] Pixels()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vqvae-fashion-encoder.json"))));
        float[] flat = fixture.RootElement.GetProperty("inputs").GetProperty("image").GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        return Enumerable.Range(0, 3).Select(i => new PixelRow { Image = flat.AsSpan(i * 784, 784).ToArray() }).ToArray();
    }

    public static CodesRow[] Codes() => Enumerable.Range(0, 3)
        .Select(i => new CodesRow { Codes = Enumerable.Range(0, 49).Select(p => (uint)(((p * 11) + (i * 17)) % 64) + 1).ToArray() }).ToArray();

    public sealed class PixelRow
    {
        [VectorType(784)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    public sealed class CodesRow
    {
        [KeyType(64)]
        [VectorType(49)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();
    }

    public sealed class ReconstructedRow
    {
        [KeyType(64)]
        [VectorType(49)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();

        [VectorType(1, 28, 28)]
        public float[] Reconstruction { get; set; } = Array.Empty<float>();

        public float ReconstructionError { get; set; }
    }

    public sealed class DecodedRow
    {
        [VectorType(1, 28, 28)]
        public float[] Reconstruction { get; set; } = Array.Empty<float>();
    }
}
