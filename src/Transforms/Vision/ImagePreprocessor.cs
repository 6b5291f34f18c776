using System;
using System.Numerics;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// An image model's training transform, as torchvision runs it on PIL images: convert to grey or RGB (alpha dropped, as
/// Pillow's <c>convert("RGB")</c>; grey copied to the three channels), into the graph's channel order, resize (exact, or
/// shortest side with torchvision's size rule) with Pillow's bilinear, bicubic or nearest filter, center crop, scale and
/// offset, subtract a per-pixel mean image and the per-channel mean, divide by the std, in NCHW or NHWC. One instance per
/// cursor (it keeps scratch buffers). Float pixels take torchvision's tensor path instead (ImagePreprocessor.Float.cs).
/// </summary>
internal sealed partial class ImagePreprocessor
{
    private readonly ImagePreprocessingSettings _settings;
    private readonly float _divisor;
    private readonly float _multiplier;
    private readonly float _offset;
    private byte[] _converted = Array.Empty<byte>();
    private byte[] _resized = Array.Empty<byte>();
    private byte[]? _scratch;

    public ImagePreprocessor(ImagePreprocessingSettings settings)
    {
        _settings = settings;
        double inverse = 1.0 / settings.Scale;
        // ToTensor divides bytes by 255 in float32; multiplying by a rounded 1/255 would differ in the last bit.
        if (Math.Abs(inverse - Math.Round(inverse)) < 1e-6)
        {
            _divisor = (float)Math.Round(inverse);
            _multiplier = 0;
        }
        else
        {
            _divisor = 0;
            _multiplier = (float)settings.Scale;
        }

        _offset = (float)settings.Offset;
    }

    public int Length => _settings.Channels * _settings.Height * _settings.Width;

    /// <summary>The first <paramref name="size"/> elements of <paramref name="buffer"/>, grown to them first if it is shorter (kept for the next image).</summary>
    private static Span<T> Grown<T>(ref T[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new T[size];
        }

        return buffer.AsSpan(0, size);
    }

    /// <summary>Preprocesses one image (<paramref name="pixels"/> in <paramref name="format"/>) into <paramref name="destination"/> (CHW floats).</summary>
    public void Run(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, Span<float> destination)
    {
        int channels = _settings.Channels;
        var converted = Grown(ref _converted, width * height * channels);
        Convert(pixels, width * height, format, converted, channels, _settings.ChannelOrder == ChannelOrder.Bgr);
        var (resizedWidth, resizedHeight) = ResizedSize(width, height);
        ReadOnlySpan<byte> image = converted;
        if (resizedWidth != width || resizedHeight != height)
        {
            var resized = Grown(ref _resized, resizedWidth * resizedHeight * channels);
            PilResampler.Resize(image, width, height, channels, resized, resizedWidth, resizedHeight, _settings.Interpolation, ref _scratch);
            image = resized;
        }

        CropAndNormalize(image, resizedWidth, resizedHeight, destination);
    }

    /// <summary>The size before cropping, as torchvision's <c>Resize</c> computes it.</summary>
    public (int Width, int Height) ResizedSize(int width, int height)
    {
        var s = _settings;
        switch (s.Resize)
        {
            case ResizeKind.Exact:
                return (s.Width, s.Height);
            case ResizeKind.ShortestSide:
                int shortSide = Math.Min(width, height), longSide = Math.Max(width, height);
                if (shortSide == s.ResizeSize)
                {
                    return (width, height);
                }

                int newShort = s.ResizeSize;
                int newLong = (int)((long)s.ResizeSize * longSide / shortSide);
                return width <= height ? (newShort, newLong) : (newLong, newShort);
            default:
                // "none": the model's size already; an image of another size is resized to it exactly.
                return width == s.Width && height == s.Height ? (width, height) : (s.Width, s.Height);
        }
    }

    // Channels are resized independently, so the BGR swap is done here, before the resize: the same bytes as after it.
    private static void Convert(ReadOnlySpan<byte> source, int pixelCount, PixelFormat format, Span<byte> destination, int channels, bool bgr)
    {
        int sourceChannels = format switch
        {
            PixelFormat.Grey => 1,
            PixelFormat.Rgb => 3,
            _ => 4,
        };
        if (source.Length < pixelCount * sourceChannels)
        {
            throw new InvalidOperationException($"The image has {source.Length} bytes, too few for {pixelCount} pixels of {format}.");
        }

        for (int p = 0; p < pixelCount; p++)
        {
            byte r, g, b;
            var px = source.Slice(p * sourceChannels, sourceChannels);
            switch (format)
            {
                case PixelFormat.Grey:
                    r = g = b = px[0];
                    break;
                case PixelFormat.Bgra:
                    (r, g, b) = (px[2], px[1], px[0]);
                    break;
                default:
                    (r, g, b) = (px[0], px[1], px[2]);
                    break;
            }

            if (channels == 3)
            {
                destination[3 * p] = bgr ? b : r;
                destination[(3 * p) + 1] = g;
                destination[(3 * p) + 2] = bgr ? r : b;
            }
            else
            {
                // Pillow's RGB -> L (ITU-R 601-2 luma in 16-bit fixed point); a grey source stays as it is.
                destination[p] = format == PixelFormat.Grey ? px[0] : (byte)(((r * 19595) + (g * 38470) + (b * 7471) + 0x8000) >> 16);
            }
        }
    }

    /// <summary>Center crop, scale and per-channel normalization of 8-bit or float pixels (interleaved, <paramref name="width"/> x <paramref name="height"/>) into the model's layout.</summary>
    private void CropAndNormalize<T>(ReadOnlySpan<T> image, int width, int height, Span<float> destination)
        where T : unmanaged, INumberBase<T>
    {
        var s = _settings;
        int top = CropOffset(height, s.Height), left = CropOffset(width, s.Width);
        int channels = s.Channels;
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < s.Height; y++)
            {
                int sy = y + top;
                for (int x = 0; x < s.Width; x++)
                {
                    int sx = x + left;
                    // torchvision pads an image smaller than the crop with zeros.
                    float value = sy >= 0 && sy < height && sx >= 0 && sx < width ? float.CreateTruncating(image[(((sy * width) + sx) * channels) + c]) : 0f;
                    float unit = _divisor != 0 ? value / _divisor : value * _multiplier;
                    destination[Index(c, y, x)] = Normalize(unit, c, y, x);
                }
            }
        }
    }

    /// <summary>Where channel <paramref name="c"/> of pixel (<paramref name="x"/>, <paramref name="y"/>) goes in the model's layout.</summary>
    private int Index(int c, int y, int x)
    {
        var s = _settings;
        return s.Layout == ImageLayout.Nhwc ? (((y * s.Width) + x) * s.Channels) + c : (((c * s.Height) + y) * s.Width) + x;
    }

    // The offset and the mean image only when set, so that torchvision's ToTensor + Normalize keep their exact bits.
    private float Normalize(float unit, int c, int y, int x)
    {
        var s = _settings;
        if (_offset != 0)
        {
            unit += _offset;
        }

        if (s.MeanImage != null)
        {
            unit -= s.MeanImage[(((c * s.Height) + y) * s.Width) + x];
        }

        return (unit - s.Mean[c]) / s.Std[c];
    }

    // torchvision's CenterCrop: Python's round (half to even) of the centred offset; negative when it pads.
    private static int CropOffset(int size, int crop)
        => size >= crop ? (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven) : -((crop - size) / 2);
}
