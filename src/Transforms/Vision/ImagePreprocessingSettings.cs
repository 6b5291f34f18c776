using System;
using System.Buffers.Binary;
using System.IO;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Manifests;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The resolved preprocessing of an image model (manifest values overridden by options), validated. Per value:
/// <c>x = (pixel * Scale + Offset - MeanImage[c, y, x] - Mean[c]) / Std[c]</c>, channels in <see cref="ChannelOrder"/>, written in <see cref="Layout"/>.
/// </summary>
internal sealed record ImagePreprocessingSettings(
    int Width, int Height, int Channels, ResizeKind Resize, int ResizeSize, bool CenterCrop, double Scale, float[] Mean, float[] Std)
{
    /// <summary>The input tensor's layout (v3 formats on; NCHW before).</summary>
    public ImageLayout Layout { get; init; }

    /// <summary>The graph's channel order (v3 formats on; RGB before).</summary>
    public ChannelOrder ChannelOrder { get; init; }

    /// <summary>Pillow's resize filter (v3 formats on; bilinear before).</summary>
    public ResizeInterpolation Interpolation { get; init; }

    /// <summary>Added after the scale (v3 formats on; 0 before).</summary>
    public double Offset { get; init; }

    /// <summary>A per-pixel mean, CHW at the model's size in its channel order, subtracted after the offset; null for none (v3 formats on).</summary>
    public float[]? MeanImage { get; init; }

    public static ResizeInterpolation ParseInterpolation(string? text, string source) => text?.ToLowerInvariant() switch
    {
        null or "" or "bilinear" => ResizeInterpolation.Bilinear,
        "bicubic" => ResizeInterpolation.Bicubic,
        "nearest" => ResizeInterpolation.Nearest,
        _ => throw ManifestFields.Unsupported(source, "preprocessing.interpolation", text, "bilinear, bicubic, nearest (Pillow's filters, what torchvision and timm run on PIL images)"),
    };

    public static ImageLayout ParseLayout(string? text, string source) => text?.ToUpperInvariant() switch
    {
        null or "" or "CHW" or "NCHW" => ImageLayout.Nchw,
        "HWC" or "NHWC" => ImageLayout.Nhwc,
        _ => throw ManifestFields.Unsupported(source, "preprocessing.layout", text, "CHW (NCHW), HWC (NHWC)"),
    };

    /// <summary>The scale and offset of a named range.</summary>
    public static (double Scale, double Offset) RangeOf(PixelRange range) => range switch
    {
        PixelRange.ZeroTo255 => (1.0, 0.0),
        PixelRange.MinusOneToOne => (1.0 / 127.5, -1.0),
        _ => (1.0 / 255, 0.0),
    };

    public static PixelRange ParseRange(string text, string source) => text.ToLowerInvariant() switch
    {
        "0-1" or "[0, 1]" or "0..1" => PixelRange.ZeroToOne,
        "0-255" or "[0, 255]" or "0..255" => PixelRange.ZeroTo255,
        "-1-1" or "[-1, 1]" or "-1..1" => PixelRange.MinusOneToOne,
        _ => throw ManifestFields.Unsupported(source, "preprocessing.range", text, "0-1, 0-255, -1..1 (or scale and offset)"),
    };
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

        if (!double.IsFinite(Offset))
        {
            ThrowHelper.BadOption("Offset", $"Offset must be a finite number, got {Offset}.");
        }

        if (ChannelOrder == ChannelOrder.Bgr && Channels != 3)
        {
            ThrowHelper.BadOption("ChannelOrder", $"BGR channel order needs a 3-channel model, got {Channels} channel(s).");
        }

        if (MeanImage != null && MeanImage.Length != Channels * Height * Width)
        {
            ThrowHelper.BadOption("MeanImage", $"MeanImage needs {Channels * Height * Width} values ({Channels} x {Height} x {Width}, CHW in the model's channel order), got {MeanImage.Length}.");
        }

        if (MeanImage != null && ModelEntry.NonFinite("MeanImage", MeanImage) is string bad)
        {
            ThrowHelper.BadOption("MeanImage", $"MeanImage values must be finite: {bad}.");
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

        if (!double.IsFinite(Offset) || !Enum.IsDefined(Layout) || !Enum.IsDefined(ChannelOrder) || !Enum.IsDefined(Interpolation))
        {
            return $"its preprocessing offset, layout ({(int)Layout}), channel order ({(int)ChannelOrder}) or interpolation ({(int)Interpolation}) is not valid";
        }

        if (ChannelOrder == ChannelOrder.Bgr && Channels != 3)
        {
            return $"its preprocessing has BGR order for {Channels} channel(s)";
        }

        if (MeanImage != null && MeanImage.Length != Channels * Height * Width)
        {
            return $"its preprocessing mean image has {MeanImage.Length} values, not {Channels * Height * Width} ({Channels} x {Height} x {Width})";
        }

        return MeanImage != null ? ModelEntry.NonFinite("preprocessing mean image", MeanImage) : null;
    }

    /// <summary>Writes what the v3 image formats add after the v2 fields: layout, channel order, interpolation, offset, mean image.</summary>
    public void SaveV3(ModelSaveContext ctx)
    {
        var w = ctx.Writer;
        w.Write((int)Layout);
        w.Write((int)ChannelOrder);
        w.Write((int)Interpolation);
        w.Write(Offset);
        w.Write(MeanImage?.Length ?? -1);
        foreach (float m in MeanImage ?? Array.Empty<float>())
        {
            w.Write(m);
        }
    }

    /// <summary>These settings with what <see cref="SaveV3"/> wrote; the caller checks <see cref="Problem"/>.</summary>
    public ImagePreprocessingSettings LoadV3(ModelLoadContext ctx)
    {
        var r = ctx.Reader;
        var layout = (ImageLayout)r.ReadInt32();
        var order = (ChannelOrder)r.ReadInt32();
        var interpolation = (ResizeInterpolation)r.ReadInt32();
        double offset = r.ReadDouble();
        int count = r.ReadInt32();
        ModelEntry.Check(ctx, count == -1 || count == Channels * Height * Width, $"its preprocessing mean image has {count} values, not {Channels * Height * Width}");
        float[]? meanImage = null;
        if (count >= 0)
        {
            meanImage = new float[count];
            for (int i = 0; i < count; i++)
            {
                meanImage[i] = r.ReadSingle();
            }
        }

        return this with { Layout = layout, ChannelOrder = order, Interpolation = interpolation, Offset = offset, MeanImage = meanImage };
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
    public static ImagePreprocessingSettings FromManifest(ImagePreprocessingSpec spec, string source, string? folder = null)
    {
        var resize = ParseResize(spec.Resize, source);
        bool crop = string.Equals(spec.Crop, "center", StringComparison.OrdinalIgnoreCase);
        int channels = spec.Channels == 0 ? 3 : spec.Channels;
        var (scale, offset) = spec.Range != null ? RangeOf(ParseRange(spec.Range, source)) : (spec.Scale ?? 1.0 / 255, spec.Offset ?? 0);
        return new ImagePreprocessingSettings(spec.Width, spec.Height, channels, resize, spec.ResizeSize ?? 0, crop, scale,
            spec.Mean ?? Enumerable.Repeat(0f, channels).ToArray(), spec.Std ?? Enumerable.Repeat(1f, channels).ToArray())
        {
            Layout = ParseLayout(spec.Layout, source),
            ChannelOrder = string.Equals(spec.Color, "bgr", StringComparison.OrdinalIgnoreCase) ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            Interpolation = ParseInterpolation(spec.Interpolation, source),
            Offset = offset,
            MeanImage = spec.MeanImage != null ? ReadMeanImage(Path.Combine(folder ?? "", spec.MeanImage), source) : null,
        };
    }

    /// <summary>Whether any preprocessing the v2 formats cannot store is set (the VAE keeps v2: it refuses them).</summary>
    public bool HasV3Settings => Layout != ImageLayout.Nchw || ChannelOrder != ChannelOrder.Rgb || Interpolation != ResizeInterpolation.Bilinear || Offset != 0 || MeanImage != null;

    private static float[] ReadMeanImage(string path, string source)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The model manifest {source} names the preprocessing.mean_image file '{path}', which does not exist.", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length % 4 != 0)
        {
            throw new InvalidDataException($"The mean image '{path}' of the model manifest {source} has {bytes.Length} bytes, not a whole number of float32 values.");
        }

        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        }

        return values;
    }
}
