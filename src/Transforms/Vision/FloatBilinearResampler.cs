using System;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// torchvision's <c>Resize(..., BILINEAR, antialias=True)</c> on a float32 tensor (ATen's <c>_upsample_bilinear2d_aa</c>): the
/// same separable antialiased triangle filter as <see cref="PilResampler"/> (support grows with the downscale factor,
/// taps outside the image dropped and the rest renormalized, horizontal pass first), but in float32 throughout: the scale,
/// centres, bounds and weights are computed in float as ATen does, nothing is rounded to bytes or clipped between or after the
/// passes, and a NaN pixel stays NaN in every output it reaches.
/// </summary>
internal static class FloatBilinearResampler
{
    /// <summary>Resizes <paramref name="source"/> (HWC floats) into <paramref name="destination"/>.</summary>
    public static void Resize(ReadOnlySpan<float> source, int width, int height, int channels, Span<float> destination, int outWidth, int outHeight, ref float[]? scratch)
    {
        if (outWidth == width && outHeight == height)
        {
            source[..(width * height * channels)].CopyTo(destination);
            return;
        }

        if (outWidth == width)
        {
            Vertical(source, width, height, channels, destination, outHeight);
            return;
        }

        if (outHeight == height)
        {
            Horizontal(source, width, height, channels, destination, outWidth);
            return;
        }

        int needed = outWidth * height * channels;
        if (scratch == null || scratch.Length < needed)
        {
            scratch = new float[needed];
        }

        Horizontal(source, width, height, channels, scratch, outWidth);
        Vertical(scratch, outWidth, height, channels, destination, outHeight);
    }

    private static void Horizontal(ReadOnlySpan<float> source, int width, int height, int channels, Span<float> destination, int outWidth)
    {
        var (bounds, kernels, size) = Coefficients(width, outWidth);
        for (int y = 0; y < height; y++)
        {
            var row = source.Slice(y * width * channels, width * channels);
            var outRow = destination.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
            {
                int min = bounds[2 * x], count = bounds[(2 * x) + 1];
                var k = kernels.AsSpan(x * size, count);
                for (int c = 0; c < channels; c++)
                {
                    float sum = row[(min * channels) + c] * k[0];
                    for (int i = 1; i < count; i++)
                    {
                        sum += row[((min + i) * channels) + c] * k[i];
                    }

                    outRow[(x * channels) + c] = sum;
                }
            }
        }
    }

    private static void Vertical(ReadOnlySpan<float> source, int width, int height, int channels, Span<float> destination, int outHeight)
    {
        var (bounds, kernels, size) = Coefficients(height, outHeight);
        int stride = width * channels;
        for (int y = 0; y < outHeight; y++)
        {
            int min = bounds[2 * y], count = bounds[(2 * y) + 1];
            var k = kernels.AsSpan(y * size, count);
            var outRow = destination.Slice(y * stride, stride);
            for (int j = 0; j < stride; j++)
            {
                float sum = source[(min * stride) + j] * k[0];
                for (int i = 1; i < count; i++)
                {
                    sum += source[((min + i) * stride) + j] * k[i];
                }

                outRow[j] = sum;
            }
        }
    }

    /// <summary>
    /// Per output index: first input index and count (bounds), and the normalized weights, with ATen's float32 arithmetic
    /// (<c>compute_indices_weights_aa</c> with <c>scalar_t = float</c>; the literals 0.5 and 1.0 are doubles there).
    /// </summary>
    private static (int[] Bounds, float[] Kernels, int Size) Coefficients(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        float support = scale >= 1f ? scale : 1f;
        float inverse = scale >= 1f ? (float)(1.0 / scale) : 1f;
        int size = ((int)Math.Ceiling(support) * 2) + 1;
        var bounds = new int[outSize * 2];
        var kernels = new float[outSize * size];
        for (int xx = 0; xx < outSize; xx++)
        {
            float center = (float)(scale * (xx + 0.5));
            int min = (int)Math.Max((long)((double)(center - support) + 0.5), 0);
            int count = (int)Math.Min((long)((double)(center + support) + 0.5), inSize) - min;
            var k = kernels.AsSpan(xx * size, count);
            float total = 0f;
            for (int x = 0; x < count; x++)
            {
                float t = Math.Abs((float)(((double)((float)(x + min) - center) + 0.5) * inverse));
                k[x] = t < 1f ? 1f - t : 0f;
                total += k[x];
            }

            if (total != 0f)
            {
                for (int x = 0; x < count; x++)
                {
                    k[x] /= total;
                }
            }

            bounds[2 * xx] = min;
            bounds[(2 * xx) + 1] = count;
        }

        return (bounds, kernels, size);
    }
}
