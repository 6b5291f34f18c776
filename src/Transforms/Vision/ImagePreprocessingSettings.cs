using System;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
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
        _ => throw ManifestFields.Unsupported(source, "preprocessing.resize", text, "none, exact, shortest"),
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

    /// <summary>The first problem of settings read back from a model zip (sizes, counts, finite values), or null.</summary>
    public string? Problem()
    {
        if (Width < 1 || Height < 1)
        {
            return $"its preprocessing image size is {Width} x {Height}, not positive";
        }

        if (Channels != 1 && Channels != 3)
        {
            return $"its preprocessing has {Channels} channels, not 1 or 3";
        }

        if (Mean == null || Std == null || Mean.Length != Channels || Std.Length != Channels)
        {
            return $"its preprocessing has {Mean?.Length ?? 0} Mean and {Std?.Length ?? 0} Std values for {Channels} channels";
        }

        string? nonFinite = ModelEntry.NonFinite("preprocessing Mean", Mean) ?? ModelEntry.NonFinite("preprocessing Std", Std);
        if (nonFinite != null)
        {
            return nonFinite;
        }

        if (Std.Any(s => !(s > 0)))
        {
            return $"its preprocessing Std [{string.Join(", ", Std.Select(s => s.ToString(CultureInfo.InvariantCulture)))}] is not positive";
        }

        if (!(Scale > 0) || !double.IsFinite(Scale))
        {
            return $"its preprocessing Scale {Scale.ToString(CultureInfo.InvariantCulture)} is not a positive finite number";
        }

        if (!Enum.IsDefined(Resize))
        {
            return $"its preprocessing resize mode {(int)Resize} is unknown";
        }

        if (Resize == ResizeKind.ShortestSide && (ResizeSize < 1 || !CenterCrop))
        {
            return $"its preprocessing resizes the shortest side to {ResizeSize} with center crop {CenterCrop}: it needs a positive size and a crop";
        }

        return null;
    }

    /// <summary>Writes the settings as explicit fields (the v2 formats of the image models and the VAE).</summary>
    public void Save(ModelSaveContext ctx)
    {
        var w = ctx.Writer;
        w.Write(Width);
        w.Write(Height);
        w.Write(Channels);
        w.Write((int)Resize);
        w.Write(ResizeSize);
        w.Write(CenterCrop);
        w.Write(Scale);
        w.Write(Mean.Length);
        foreach (float m in Mean)
        {
            w.Write(m);
        }

        w.Write(Std.Length);
        foreach (float v in Std)
        {
            w.Write(v);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote; the caller checks <see cref="Problem"/>.</summary>
    public static ImagePreprocessingSettings Load(ModelLoadContext ctx)
    {
        var r = ctx.Reader;
        int width = r.ReadInt32(), height = r.ReadInt32(), channels = r.ReadInt32();
        var resize = (ResizeKind)r.ReadInt32();
        int resizeSize = r.ReadInt32();
        bool crop = r.ReadBoolean();
        double scale = r.ReadDouble();
        var mean = ReadFloats(ctx, "preprocessing mean");
        var std = ReadFloats(ctx, "preprocessing std");
        return new ImagePreprocessingSettings(width, height, channels, resize, resizeSize, crop, scale, mean, std);
    }

    private static float[] ReadFloats(ModelLoadContext ctx, string what)
    {
        int count = ctx.Reader.ReadInt32();
        ModelEntry.Check(ctx, count is >= 0 and <= 4, $"its {what} has {count} values, not one per channel (1 or 3)");
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ctx.Reader.ReadSingle();
        }

        return values;
    }

    /// <summary>The settings a manifest's <c>preprocessing</c> block gives (its values were checked when it was read: ManifestFields).</summary>
    public static ImagePreprocessingSettings FromManifest(ImagePreprocessingSpec spec, string source)
    {
        var resize = ParseResize(spec.Resize, source);
        bool crop = string.Equals(spec.Crop, "center", StringComparison.OrdinalIgnoreCase);
        int channels = spec.Channels == 0 ? 3 : spec.Channels;
        return new ImagePreprocessingSettings(spec.Width, spec.Height, channels, resize, spec.ResizeSize ?? 0, crop, spec.Scale,
            spec.Mean ?? Enumerable.Repeat(0f, channels).ToArray(), spec.Std ?? Enumerable.Repeat(1f, channels).ToArray());
    }
}
