using System;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// Pillow's <c>Image.resize(size, BILINEAR)</c> on 8-bit images, bit for bit: a triangle filter whose support grows with the
/// downscale factor (so it antialiases), coefficients in 22-bit fixed point, a horizontal pass then a vertical pass with
/// rounding to bytes in between. torchvision's <c>Resize</c> runs exactly this on PIL images, so matching it is what makes
/// the tensors equal PyTorch's.
/// </summary>
internal static class PilBilinearResampler
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes <paramref name="source"/> (HWC bytes) into <paramref name="destination"/>.</summary>
    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outWidth, int outHeight, ref byte[]? scratch)
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
            scratch = new byte[needed];
        }

        Horizontal(source, width, height, channels, scratch, outWidth);
        Vertical(scratch, outWidth, height, channels, destination, outHeight);
    }

    private static void Horizontal(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outWidth)
    {
        var (bounds, kernels, size) = Coefficients(width, outWidth);
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

    private static void Vertical(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, int outHeight)
    {
        var (bounds, kernels, size) = Coefficients(height, outHeight);
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
    private static (int[] Bounds, int[] Kernels, int Size) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale;
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
                double w = Triangle((x + min - center + 0.5) * inverse);
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

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
