using System;
using System.Globalization;
using System.Linq;
using MlNotes.Transforms.Manifests;

namespace MlNotes.Transforms.Vision;

/// <summary>The resolved preprocessing of an image model (manifest values overridden by options), validated.</summary>
internal sealed record ImagePreprocessingSettings(
    int Width, int Height, int Channels, ResizeKind Resize, int ResizeSize, bool CenterCrop, double Scale, float[] Mean, float[] Std)
{
    public static ResizeKind ParseResize(string? text, string source) => text?.ToLowerInvariant() switch
    {
        null or "" or "none" => ResizeKind.None,
        "exact" => ResizeKind.Exact,
        "shortest" or "shortest_side" or "shortest-side" => ResizeKind.ShortestSide,
        _ => ThrowHelper.InvalidOperation<ResizeKind>($"The model manifest {source} has an unknown resize mode '{text}' (none, exact, shortest)."),
    };

    public void Validate()
    {
        if (Width < 1 || Height < 1)
        {
            ThrowHelper.BadOption("ImageWidth", $"The model's image size must be positive, got {Width} x {Height}.");
        }

        if (Channels != 1 && Channels != 3)
        {
            ThrowHelper.BadOption("ImageChannels", $"Image models take 1 (grey) or 3 (RGB) channels, got {Channels}.");
        }

        if (Mean.Length != Channels || Std.Length != Channels)
        {
            ThrowHelper.BadOption("Mean", $"Mean and Std need one value per channel ({Channels}), got {Mean.Length} and {Std.Length}.");
        }

        if (Std.Any(s => !(s > 0)))
        {
            ThrowHelper.BadOption("Std", $"Std values must be positive, got [{string.Join(", ", Std.Select(s => s.ToString(CultureInfo.InvariantCulture)))}].");
        }

        if (!(Scale > 0))
        {
            ThrowHelper.BadOption("Scale", $"Scale must be positive, got {Scale}.");
        }

        if (Resize == ResizeKind.ShortestSide && (ResizeSize < 1 || !CenterCrop))
        {
            ThrowHelper.BadOption("ResizeSize", $"Resizing the shortest side needs a positive ResizeSize (got {ResizeSize}) and a center crop to {Width} x {Height}.");
        }
    }

    public static ImagePreprocessingSettings FromManifest(ImagePreprocessingSpec spec, string source)
    {
        var resize = ParseResize(spec.Resize, source);
        bool crop = string.Equals(spec.Crop, "center", StringComparison.OrdinalIgnoreCase);
        int channels = spec.Channels == 0 ? 3 : spec.Channels;
        return new ImagePreprocessingSettings(spec.Width, spec.Height, channels, resize, spec.ResizeSize ?? 0, crop, spec.Scale,
            spec.Mean ?? Enumerable.Repeat(0f, channels).ToArray(), spec.Std ?? Enumerable.Repeat(1f, channels).ToArray());
    }
}
