using System;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The direct path: an image already at the model's size and in its channel layout (grey bytes for a 1-channel model, RGB bytes for
/// a 3-channel one) needs no conversion, resize or crop, only the per-channel scale, offset and normalization. That is a function of
/// the byte value, so it is read from a table of 256 values per channel computed with the very float operations of
/// <see cref="CropAndNormalize{T}(ReadOnlySpan{T}, int, int, Span{float})"/>: the same bits, without two divisions and a bounds test per
/// value. BGR order and the NHWC layout only change where a value is read and written; a mean image is per pixel, so it takes the
/// general path.
/// </summary>
internal sealed partial class ImagePreprocessor
{
    private float[]? _table;

    /// <summary>Preprocesses <paramref name="pixels"/> when the direct path applies (see the type); false, touching nothing, when it does not.</summary>
    public bool TryRunDirect(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, Span<float> destination)
    {
        var s = _settings;
        int channels = s.Channels;
        bool layout = (format == PixelFormat.Grey && channels == 1) || (format == PixelFormat.Rgb && channels == 3);
        int plane = width * height;
        if (!layout || s.MeanImage != null || width != s.Width || height != s.Height || ResizedSize(width, height) != (width, height)
            || pixels.Length < plane * channels || destination.Length < plane * channels)
        {
            return false;
        }

        var table = _table ??= Table();
        if (channels == 1)
        {
            var values = table.AsSpan(0, 256);
            var output = destination[..plane];
            for (int p = 0; p < output.Length; p++)
            {
                output[p] = values[pixels[p]];
            }

            return true;
        }

        bool bgr = s.ChannelOrder == ChannelOrder.Bgr;
        for (int c = 0; c < channels; c++)
        {
            var values = table.AsSpan(c * 256, 256);
            int from = bgr ? channels - 1 - c : c;
            if (s.Layout == ImageLayout.Nhwc)
            {
                for (int p = 0; p < plane; p++)
                {
                    destination[(p * channels) + c] = values[pixels[(p * channels) + from]];
                }

                continue;
            }

            var output = destination.Slice(c * plane, plane);
            for (int p = 0; p < output.Length; p++)
            {
                output[p] = values[pixels[(p * channels) + from]];
            }
        }

        return true;
    }

    private float[] Table()
    {
        var s = _settings;
        var table = new float[s.Channels * 256];
        for (int c = 0; c < s.Channels; c++)
        {
            for (int v = 0; v < 256; v++)
            {
                byte value = (byte)v;
                // Exactly CropAndNormalize's arithmetic on one byte (no mean image on this path).
                float unit = _divisor != 0 ? value / _divisor : value * _multiplier;
                table[(c * 256) + v] = Normalize(unit, c, 0, 0);
            }
        }

        return table;
    }
}
