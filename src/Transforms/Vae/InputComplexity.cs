using System;
using System.Buffers;
using SkiaSharp;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The complexity L(x) of Serrà et al. 2020: an image's length in bits under a lossless compressor, here PNG as SkiaSharp
/// (the image library ML.NET's <c>MLImage</c> already loads) writes it: 8-bit grey or RGB, every PNG filter, zlib level 9.
/// </summary>
internal static class InputComplexity
{
    private static readonly SKPngEncoderOptions s_png = new(SKPngEncoderFilterFlags.AllFilters, zLibLevel: 9);

    /// <summary>
    /// The PNG length in bits of <paramref name="x"/> (CHW, values in [0, 1], 1 or 3 channels), quantized to 8 bits as
    /// round(255 x) clamped to [0, 255]; NaN when a value is not finite.
    /// </summary>
    public static unsafe double PngBits(ReadOnlySpan<float> x, int channels, int height, int width)
    {
        int plane = height * width;
        int stride = channels == 1 ? 1 : 4;
        byte[] pixels = ArrayPool<byte>.Shared.Rent(plane * stride);
        try
        {
            for (int i = 0; i < plane; i++)
            {
                for (int c = 0; c < channels; c++)
                {
                    float v = x[(c * plane) + i];
                    if (!float.IsFinite(v))
                    {
                        return double.NaN;
                    }

                    pixels[(i * stride) + c] = (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);
                }

                if (stride == 4)
                {
                    pixels[(i * 4) + 3] = 255;
                }
            }

            var info = new SKImageInfo(width, height, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
            fixed (byte* p = pixels)
            {
                using var pixmap = new SKPixmap(info, (IntPtr)p, width * stride);
                using var png = pixmap.Encode(s_png)
                    ?? throw new InvalidOperationException($"SkiaSharp could not encode a {width} x {height} image with {channels} channels as PNG.");
                return png.Size * 8.0;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }
}
