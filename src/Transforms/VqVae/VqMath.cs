using System;

namespace MlNotes.Transforms.VqVae;

/// <summary>The VQ-VAE's quantization: nearest code by squared Euclidean distance, code vectors, the reconstruction error.</summary>
internal static class VqMath
{
    /// <summary>
    /// For each of the <paramref name="indices"/>' positions, the code of <paramref name="codebook"/> (rows of <paramref name="dim"/>)
    /// nearest to that position's latent vector: argmin_k ||z - c_k||^2, summed in double, ties to the lower index (PyTorch's argmin).
    /// A latent vector with a NaN is nearest to no code: -1 (the missing key, NaN code vectors).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> latents, ReadOnlySpan<float> codebook, int dim, Span<int> indices)
    {
        int codes = codebook.Length / dim;
        for (int p = 0; p < indices.Length; p++)
        {
            var z = latents.Slice(p * dim, dim);
            int best = -1;
            double bestDistance = double.PositiveInfinity;
            for (int k = 0; k < codes; k++)
            {
                var c = codebook.Slice(k * dim, dim);
                double d = 0;
                for (int j = 0; j < dim; j++)
                {
                    double diff = (double)z[j] - c[j];
                    d += diff * diff;
                }

                if (d < bestDistance)
                {
                    (best, bestDistance) = (k, d);
                }
            }

            indices[p] = best;
        }
    }

    /// <summary>The code vectors of <paramref name="indices"/>, position after position (channels last); NaN for index -1.</summary>
    public static void CodeVectors(ReadOnlySpan<int> indices, ReadOnlySpan<float> codebook, int dim, Span<float> destination)
    {
        for (int p = 0; p < indices.Length; p++)
        {
            if (indices[p] < 0)
            {
                destination.Slice(p * dim, dim).Fill(float.NaN);
                continue;
            }

            codebook.Slice(indices[p] * dim, dim).CopyTo(destination.Slice(p * dim, dim));
        }
    }

    /// <summary>mean((x - y)^2), summed in double.</summary>
    public static float MeanSquaredError(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = (double)x[i] - y[i];
            sum += d * d;
        }

        return (float)(sum / x.Length);
    }
}
