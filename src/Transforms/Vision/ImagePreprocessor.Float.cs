using System;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The float path: what torchvision does to a float32 tensor of 0-255 values, with nothing rounded to bytes (fractions are
/// kept, a NaN pixel stays NaN): <c>F.rgb_to_grayscale</c> (0.2989 R + 0.587 G + 0.114 B in float32) or a grey channel
/// copied to R, G, B; <c>Resize(..., BILINEAR, antialias=True)</c> (<see cref="FloatBilinearResampler"/>), same sizes as the
/// byte path; the same center crop; then the scale (ToTensor's division) and Normalize, in float32, CHW.
/// </summary>
/// <remarks>
/// The grey weights are torchvision's, not Pillow's (299/587/114 per mille, rounded to a byte): a PyTorch user holding a float
/// tensor converts it with <c>T.Grayscale</c>, which runs <c>rgb_to_grayscale</c>; Pillow cannot take such a tensor at all.
/// </remarks>
internal sealed partial class ImagePreprocessor
{
    private float[] _convertedFloats = Array.Empty<float>();
    private float[] _resizedFloats = Array.Empty<float>();
    private float[]? _floatScratch;

    /// <summary>Preprocesses one float image (<paramref name="pixels"/> HWC, grey or RGB, 0-255) into <paramref name="destination"/> (CHW).</summary>
    public void Run(ReadOnlySpan<float> pixels, int width, int height, PixelFormat format, Span<float> destination)
    {
        int channels = _settings.Channels;
        var converted = Grown(ref _convertedFloats, width * height * channels);
        Convert(pixels, width * height, format, converted, channels, _settings.ChannelOrder == ChannelOrder.Bgr);
        var (resizedWidth, resizedHeight) = ResizedSize(width, height);
        ReadOnlySpan<float> image = converted;
        if (resizedWidth != width || resizedHeight != height)
        {
            var resized = Grown(ref _resizedFloats, resizedWidth * resizedHeight * channels);
            FloatBilinearResampler.Resize(image, width, height, channels, resized, resizedWidth, resizedHeight, ref _floatScratch);
            image = resized;
        }

        CropAndNormalize(image, resizedWidth, resizedHeight, destination);
    }

    private static void Convert(ReadOnlySpan<float> source, int pixelCount, PixelFormat format, Span<float> destination, int channels, bool bgr)
    {
        int sourceChannels = format switch
        {
            PixelFormat.Grey => 1,
            PixelFormat.Rgb => 3,
            _ => throw new InvalidOperationException($"Float pixels are grey or RGB, not {format}."),
        };
        if (source.Length < pixelCount * sourceChannels)
        {
            throw new InvalidOperationException($"The image has {source.Length} values, too few for {pixelCount} pixels of {format}.");
        }

        if (sourceChannels == channels)
        {
            source[..(pixelCount * channels)].CopyTo(destination);
            if (bgr)
            {
                for (int p = 0; p < pixelCount; p++)
                {
                    (destination[3 * p], destination[(3 * p) + 2]) = (destination[(3 * p) + 2], destination[3 * p]);
                }
            }

            return;
        }

        for (int p = 0; p < pixelCount; p++)
        {
            if (channels == 3)
            {
                destination[3 * p] = destination[(3 * p) + 1] = destination[(3 * p) + 2] = source[p];
            }
            else
            {
                // torchvision's rgb_to_grayscale, float32 products summed left to right.
                destination[p] = (0.2989f * source[3 * p]) + (0.587f * source[(3 * p) + 1]) + (0.114f * source[(3 * p) + 2]);
            }
        }
    }
}
