using System;
using System.Linq;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Tests.Persistence;

/// <summary>The GAN fixture components' rows: three fixed noise vectors, and (for the discriminator) the VQ-VAE fixture's three images.</summary>
internal static class GanFixtureRows
{
    public static NoiseRow[] Noise() => Enumerable.Range(0, 3)
        .Select(i => new NoiseRow { Noise = Enumerable.Range(0, 64).Select(j => (float)Math.Sin((i * 64) + j + 1)).ToArray() }).ToArray();

    public sealed class NoiseRow
    {
        [VectorType(64)]
        public float[] Noise { get; set; } = Array.Empty<float>();
    }

    public sealed class GeneratedRow
    {
        [VectorType(1, 28, 28)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    public sealed class RealismRow
    {
        public float RealismLogit { get; set; }

        public float Realism { get; set; }
    }
}
