using System;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// Pillow's <c>Image.resize(size, BILINEAR | BICUBIC | NEAREST)</c> on 8-bit images, bit for bit. Bilinear and bicubic: a
/// triangle or cubic (a = -0.5) filter whose support grows with the downscale factor (so it antialiases), coefficients in 22-bit
/// fixed point, a horizontal pass then a vertical pass with rounding to bytes in between (Pillow's Resample.c). Nearest: the
/// affine scale of Pillow's Geometry.c, the source pixel at the accumulated centre position. torchvision's <c>Resize</c> and
/// timm's transforms run exactly these on PIL images, so matching them is what makes the tensors equal PyTorch's.
/// </summary>
internal static class PilResampler
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes <paramref name="source"/> (HWC bytes) into <paramref name="destination"/> with Pillow's <paramref name="filter"/>.</summary>
    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outWidth, int outHeight, ResizeInterpolation filter, ref byte[]? scratch)
    {
        if (outWidth == width && outHeight == height)
        {
            source[..(width * height * channels)].CopyTo(destination);
            return;
        }

        if (filter == ResizeInterpolation.Nearest)
        {
            Nearest(source, width, height, channels, destination, outWidth, outHeight);
            return;
        }

        if (outWidth == width)
        {
            Vertical(source, width, height, channels, destination, outHeight, filter);
            return;
        }

        if (outHeight == height)
        {
            Horizontal(source, width, height, channels, destination, outWidth, filter);
            return;
        }

        int needed = outWidth * height * channels;
        if (scratch == null || scratch.Length < needed)
        {
            scratch = new byte[needed];
        }

        Horizontal(source, width, height, channels, scratch, outWidth, filter);
        Vertical(scratch, outWidth, height, channels, destination, outHeight, filter);
    }

    // Pillow's ImagingScaleAffine: positions accumulated in double from a half step, truncated (Geometry.c's COORD).
    private static void Nearest(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outWidth, int outHeight)
    {
        double stepX = (double)width / outWidth, stepY = (double)height / outHeight;
        var xs = new int[outWidth];
        double xo = stepX * 0.5;
        for (int x = 0; x < outWidth; x++)
        {
            xs[x] = Math.Min((int)xo, width - 1);
            xo += stepX;
        }

        double yo = stepY * 0.5;
        for (int y = 0; y < outHeight; y++)
        {
            int sy = Math.Min((int)yo, height - 1);
            yo += stepY;
            var row = source.Slice(sy * width * channels, width * channels);
            var outRow = destination.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
            {
                row.Slice(xs[x] * channels, channels).CopyTo(outRow.Slice(x * channels, channels));
            }
        }
    }

    private static void Horizontal(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outWidth, ResizeInterpolation filter)
    {
        var (bounds, kernels, size) = Coefficients(width, outWidth, filter);
        for (int y = 0; y < height; y++)
        {
            var row = source.Slice(y * width * channels, width * channels);
            var outRow = destination.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
            {
                int min = bounds[2 * x], count = bounds[2 * x + 1];
                var k = kernels.AsSpan(x * size, count);
                for (int c = 0; c < channels; c++)
                {
                    int sum = 1 << (PrecisionBits - 1);
                    for (int i = 0; i < count; i++)
                    {
                        sum += row[(min + i) * channels + c] * k[i];
                    }

                    outRow[x * channels + c] = Clip8(sum);
                }
            }
        }
    }

    private static void Vertical(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outHeight, ResizeInterpolation filter)
    {
        var (bounds, kernels, size) = Coefficients(height, outHeight, filter);
        int stride = width * channels;
        for (int y = 0; y < outHeight; y++)
        {
            int min = bounds[2 * y], count = bounds[2 * y + 1];
            var k = kernels.AsSpan(y * size, count);
            var outRow = destination.Slice(y * stride, stride);
            for (int j = 0; j < stride; j++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int i = 0; i < count; i++)
                {
                    sum += source[(min + i) * stride + j] * k[i];
                }

                outRow[j] = Clip8(sum);
            }
        }
    }

    private static byte Clip8(int value)
    {
        if (value >= (1 << PrecisionBits << 8))
        {
            return 255;
        }

        return value <= 0 ? (byte)0 : (byte)(value >> PrecisionBits);
    }

    /// <summary>Per output index: first input index and count (bounds), and the fixed-point weights.</summary>
    private static (int[] Bounds, int[] Kernels, int Size) Coefficients(int inSize, int outSize, ResizeInterpolation filter)
    {
        bool cubic = filter == ResizeInterpolation.Bicubic;
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = (cubic ? 2.0 : 1.0) * filterScale;
        int size = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var kernels = new int[outSize * size];
        var weights = new double[size];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double inverse = 1.0 / filterScale;
            int min = Math.Max((int)(center - support + 0.5), 0);
            int max = Math.Min((int)(center + support + 0.5), inSize) - min;
            double total = 0;
            for (int x = 0; x < max; x++)
            {
                double at = (x + min - center + 0.5) * inverse;
                double w = cubic ? Cubic(at) : Triangle(at);
                weights[x] = w;
                total += w;
            }

            for (int x = 0; x < max; x++)
            {
                double w = total != 0 ? weights[x] / total : weights[x];
                kernels[xx * size + x] = w < 0
                    ? (int)(-0.5 + w * (1 << PrecisionBits))
                    : (int)(0.5 + w * (1 << PrecisionBits));
            }

            bounds[2 * xx] = min;
            bounds[2 * xx + 1] = max;
        }

        return (bounds, kernels, size);
    }

    // Pillow's bicubic_filter, a = -0.5.
    private static double Cubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0)
        {
            return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        }

        return x < 2.0 ? ((((x - 5) * x) + 8) * x - 4) * a : 0.0;
    }

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
