using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using SkiaSharp;

namespace MlNotes.Transforms.Vision;

/// <summary>Decoded pixels of one row: bytes, or (from a Single pixel vector) floats kept as they are.</summary>
internal readonly record struct ImageSource(ReadOnlyMemory<byte> Pixels, int Width, int Height, PixelFormat Format)
{
    /// <summary>The float pixels (HWC, grey or RGB, 0-255) when <see cref="IsFloat"/>; <see cref="Pixels"/> is then empty.</summary>
    public ReadOnlyMemory<float> Floats { get; init; }

    /// <summary>Whether the pixels are floats, preprocessed in float end to end.</summary>
    public bool IsFloat { get; init; }

    public static ImageSource FromFloats(ReadOnlyMemory<float> floats, int width, int height, PixelFormat format)
        => new(ReadOnlyMemory<byte>.Empty, width, height, format) { Floats = floats, IsFloat = true };
}

/// <summary>
/// How an image model reads its image column, shared by every image model: the column check (at schema time), the path column
/// named in messages, and a per-cursor reader of MLImage, paths, encoded bytes or raw pixel vectors.
/// </summary>
internal sealed class ImageInput
{
    public ImageInput(string columnName, string? imageFolder, string? pathColumnName, ImagePreprocessingSettings preprocessing, int rawWidth, int rawHeight, int rawChannels)
    {
        ColumnName = columnName;
        ImageFolder = imageFolder;
        PathColumnName = pathColumnName;
        RawChannelsSet = rawChannels;
        RawWidth = rawWidth > 0 ? rawWidth : preprocessing.Width;
        RawHeight = rawHeight > 0 ? rawHeight : preprocessing.Height;
        RawChannels = rawChannels > 0 ? rawChannels : preprocessing.Channels;
        // torchvision's tensor path has its own bicubic (a = -0.75) and nearest: only its bilinear is reproduced for float pixels.
        FloatResizeRefused = preprocessing.Interpolation != ResizeInterpolation.Bilinear
            && (preprocessing.Resize != ResizeKind.None || RawWidth != preprocessing.Width || RawHeight != preprocessing.Height)
            ? preprocessing.Interpolation : null;
    }

    private ResizeInterpolation? FloatResizeRefused { get; }

    public string ColumnName { get; }

    public string? ImageFolder { get; }

    public string? PathColumnName { get; }

    public int RawWidth { get; }

    public int RawHeight { get; }

    public int RawChannels { get; }

    private int RawChannelsSet { get; }

    /// <summary>The preprocessing of an image input, from the options over the manifest over the graph, validated against the graph.</summary>
    public static ImagePreprocessingSettings ResolvePreprocessing(OnnxImageModelOptions o, ModelManifest? manifest, string imageTensor, NodeMetadata imageMeta, string modelName)
    {
        int[] dims = imageMeta.Dimensions;
        var spec = manifest?.Preprocessing;
        ManifestFields.CheckDecided(manifest, o is OnnxImageClassifierEstimator.Options ? "ClassifyImageOnnx" : "EncodeClipImage", o.DecidedFields());
        var fromManifest = spec != null ? ImagePreprocessingSettings.FromManifest(spec, manifest!.Source, manifest.Folder) : null;
        // NHWC when the graph says so (a last axis of 1 or 3 and a second that is not): TensorFlow exports.
        bool graphNhwc = dims.Length == 4 && dims[3] is 1 or 3 && dims[1] is not (1 or 3);
        var layout = o.Layout ?? (spec?.Layout != null ? fromManifest!.Layout : graphNhwc ? ImageLayout.Nhwc : ImageLayout.Nchw);
        bool nhwc = layout == ImageLayout.Nhwc;
        int GraphDim(int axis) => dims.Length == 4 && dims[axis] > 0 ? dims[axis] : 0;
        int channels = o.ImageChannels ?? fromManifest?.Channels ?? GraphDim(nhwc ? 3 : 1);
        int height = o.ImageHeight ?? fromManifest?.Height ?? GraphDim(nhwc ? 1 : 2);
        int width = o.ImageWidth ?? fromManifest?.Width ?? GraphDim(nhwc ? 2 : 3);
        var resize = o.Resize ?? fromManifest?.Resize ?? ResizeKind.None;
        int resizeSize = o.ResizeSize ?? fromManifest?.ResizeSize ?? 0;
        bool crop = resize == ResizeKind.ShortestSide || (fromManifest?.CenterCrop ?? false);
        if (o.PixelRange != null && (o.Scale != null || o.Offset != null))
        {
            ThrowHelper.BadOption(nameof(o.PixelRange), $"Set PixelRange ({o.PixelRange}) or Scale and Offset, not both.");
        }

        var (scale, offset) = o.PixelRange is PixelRange range
            ? ImagePreprocessingSettings.RangeOf(range)
            : (o.Scale ?? fromManifest?.Scale ?? 1.0 / 255, o.Offset ?? fromManifest?.Offset ?? 0);
        var preprocessing = new ImagePreprocessingSettings(width, height, channels, resize, resizeSize, crop, scale,
            o.Mean ?? fromManifest?.Mean ?? Enumerable.Repeat(0f, Math.Max(channels, 1)).ToArray(),
            o.Std ?? fromManifest?.Std ?? Enumerable.Repeat(1f, Math.Max(channels, 1)).ToArray())
        {
            Layout = layout,
            ChannelOrder = o.ChannelOrder ?? fromManifest?.ChannelOrder ?? ChannelOrder.Rgb,
            Interpolation = o.Interpolation ?? fromManifest?.Interpolation ?? ResizeInterpolation.Bilinear,
            Offset = offset,
            MeanImage = o.MeanImage ?? fromManifest?.MeanImage,
        };
        preprocessing.Validate();
        int[] expected = nhwc ? new[] { height, width, channels } : new[] { channels, height, width };
        if (dims.Length != 4 || Enumerable.Range(0, 3).Any(i => dims[i + 1] > 0 && dims[i + 1] != expected[i]))
        {
            string shape = nhwc ? $"{height} x {width} x {channels} images (HWC)" : $"{channels} x {height} x {width} images (CHW)";
            ThrowHelper.InvalidOperation(
                $"The ONNX input '{imageTensor}' of model {modelName} has shape [{string.Join(", ", dims)}], which does not take {shape}: ImageChannels, ImageHeight, ImageWidth and Layout, from the options, else the manifest, else the graph.");
        }

        if (o.RawPixelChannels is int rawChannels && rawChannels != 1 && rawChannels != 3)
        {
            ThrowHelper.BadOption(nameof(o.RawPixelChannels), $"RawPixelChannels must be 1 or 3, got {rawChannels}.");
        }

        return preprocessing;
    }

    /// <summary>Says through the ML.NET channel when the graph fixes its batch axis: runs are then of that size, whatever BatchSize says.</summary>
    public static void LogFixedBatch(IHost host, OnnxColumnBinding image, int batchSize, string modelName)
    {
        int fixedBatch = image.Tensor.FixedBatch;
        if (fixedBatch > 0 && fixedBatch != batchSize)
        {
            using var ch = host.Start("Fixed batch");
            ch.Info($"The ONNX input '{image.Tensor.Name}' of model {modelName} fixes its batch axis at {fixedBatch}: images are scored {fixedBatch} per run " +
                $"(BatchSize {batchSize} is the rows a cursor preprocesses at a time; the last run is padded). Export the graph with a dynamic batch axis for larger runs.");
        }
    }

    /// <summary>The graph input taking the image: the option, the manifest's image role, or the graph's only input.</summary>
    public static string ResolveImageTensor(OnnxImageModelOptions o, ModelManifest? manifest, OnnxModel model)
    {
        string? name = o.ImageTensorName ?? manifest?.Role("image");
        if (name == null)
        {
            name = model.InputMetadata.Count == 1
                ? model.InputMetadata.Keys.Single()
                : ThrowHelper.BadOption<string>(nameof(o.ImageTensorName), $"The ONNX model {model.Name} has {model.InputMetadata.Count} inputs: name the image one with ImageTensorName.");
        }

        if (!model.InputMetadata.ContainsKey(name))
        {
            ThrowHelper.BadOption(nameof(o.ImageTensorName), $"The ONNX model {model.Name} has no input named '{name}' (its inputs: {string.Join(", ", model.InputMetadata.Keys)}).");
        }

        if (model.InputMetadata.Count != 1)
        {
            ThrowHelper.InvalidOperation($"The ONNX model {model.Name} has {model.InputMetadata.Count} inputs; an image model feeds only the image.");
        }

        return name;
    }

    /// <summary>Throws when the image column is missing or of a type no image model reads.</summary>
    public void CheckColumn(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(ColumnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(schema), ColumnName);
        }

        var type = column.Value.Type;
        if (type is ImageDataViewType or TextDataViewType)
        {
            return;
        }

        if (type is VectorDataViewType vector && (vector.ItemType == NumberDataViewType.Byte || vector.ItemType == NumberDataViewType.Single))
        {
            if (vector.ItemType == NumberDataViewType.Single && FloatResizeRefused is ResizeInterpolation refused)
            {
                ThrowHelper.NotSupported<int>(
                    $"The column '{ColumnName}' holds Single pixels, which are resized as torchvision resizes float tensors; MlNotes reproduces its bilinear filter only, not {refused} (give 8-bit pixels, images or paths for Pillow's {refused}).");
            }

            bool raw = vector.ItemType == NumberDataViewType.Single || RawChannelsSet > 0;
            if (!raw)
            {
                return; // Encoded image bytes: decoded per row.
            }

            int expected = RawWidth * RawHeight * RawChannels;
            if (vector.Size != 0 && vector.Size != expected)
            {
                ThrowHelper.SchemaMismatch(nameof(schema), ColumnName,
                    $"a pixel vector of {expected} values ({RawHeight} x {RawWidth} x {RawChannels}, interleaved)", $"{type} ({vector.Size} values)");
            }

            return;
        }

        ThrowHelper.SchemaMismatch(nameof(schema), ColumnName, "an image (MLImage), encoded image bytes, or a Byte or Single pixel vector", $"{type}");
    }

    /// <summary>The column that names each image's file in messages: the option, or a conventional ImagePath column beside an MLImage one.</summary>
    public string? PathColumn(DataViewSchema schema)
    {
        if (schema[ColumnName].Type is not ImageDataViewType)
        {
            return null;
        }

        string name = PathColumnName ?? "ImagePath";
        return schema.GetColumnOrNull(name) is { Type: TextDataViewType } ? name : null;
    }

    /// <summary>The columns a batch reads.</summary>
    public string[] Columns(DataViewSchema schema) => PathColumn(schema) is string path ? new[] { ColumnName, path } : new[] { ColumnName };

    /// <summary>A per-cursor filler of input-tensor slots from the current row's image (see <see cref="ImageSlotFiller"/>).</summary>
    public ImageSlotFiller MakeFiller(DataViewRow source, ImagePreprocessingSettings preprocessing, bool continueOnError)
        => new(MakeReader(source), new ImagePreprocessor(preprocessing), ColumnName, continueOnError);

    /// <summary>A reader of the current row's image; it throws <see cref="InvalidDataException"/> with the file or the reason.</summary>
    public Func<ImageSource> MakeReader(DataViewRow source)
    {
        var column = source.Schema[ColumnName];
        if (column.Type is TextDataViewType)
        {
            var pathGetter = source.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> relative = default;
            return () =>
            {
                pathGetter(ref relative);
                return ReadFile(Path.Combine(ImageFolder ?? "", relative.ToString()));
            };
        }

        if (column.Type is ImageDataViewType)
        {
            var getter = source.GetGetter<MLImage>(column);
            string? pathColumn = PathColumn(source.Schema);
            var nameGetter = pathColumn != null ? source.GetGetter<ReadOnlyMemory<char>>(source.Schema[pathColumn]) : null;
            ReadOnlyMemory<char> name = default;
            MLImage image = null!;
            return () =>
            {
                try
                {
                    getter(ref image);
                    if (image == null)
                    {
                        throw new InvalidDataException("the image is missing (LoadImages gives no image for an empty path).");
                    }
                }
                catch (Exception e) when (nameGetter != null && e is not OutOfMemoryException)
                {
                    nameGetter(ref name);
                    throw new InvalidDataException($"the image '{name}' (column '{pathColumn}') cannot be read: {e.Message}", e);
                }

                return FromImage(image);
            };
        }

        var vector = (VectorDataViewType)column.Type;
        if (vector.ItemType == NumberDataViewType.Byte && RawChannelsSet == 0)
        {
            var getter = source.GetGetter<VBuffer<byte>>(column);
            VBuffer<byte> encoded = default;
            return () =>
            {
                getter(ref encoded);
                if (encoded.Length == 0)
                {
                    throw new InvalidDataException("the encoded image is empty.");
                }

                return Decode(encoded.DenseValues().ToArray());
            };
        }

        int width = RawWidth, height = RawHeight, channels = RawChannels;
        var rawFormat = channels == 1 ? PixelFormat.Grey : PixelFormat.Rgb;
        int length = width * height * channels;
        if (vector.ItemType == NumberDataViewType.Byte)
        {
            var bytes = new byte[length];
            var getter = source.GetGetter<VBuffer<byte>>(column);
            VBuffer<byte> value = default;
            return () =>
            {
                getter(ref value);
                CheckLength(value.Length, length);
                value.CopyTo(bytes);
                return new ImageSource(bytes, width, height, rawFormat);
            };
        }

        // Single pixels stay floats (fractions kept, NaN kept): the preprocessor's float path, not a rounding to bytes.
        var pixels = new float[length];
        var floatGetter = source.GetGetter<VBuffer<float>>(column);
        VBuffer<float> floats = default;
        return () =>
        {
            floatGetter(ref floats);
            CheckLength(floats.Length, length);
            floats.CopyTo(pixels);
            return ImageSource.FromFloats(pixels, width, height, rawFormat);
        };

        void CheckLength(int actual, int expected)
        {
            if (actual != expected)
            {
                throw new InvalidDataException($"the pixel vector has {actual} values, expected {expected} ({height} x {width} x {channels}).");
            }
        }
    }

    /// <summary>Reads and decodes one image file; the message says whether it is missing, empty, unreadable or not an image.</summary>
    private static ImageSource ReadFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"the image path '{path}' is a folder, not an image file (is the path in the row empty?).");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidDataException($"the image file '{path}' does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"the image file '{path}' cannot be read: {e.Message}", e);
        }

        if (bytes.Length == 0)
        {
            throw new InvalidDataException($"the image file '{path}' is empty (0 bytes).");
        }

        try
        {
            return Decode(bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"the image file '{path}' cannot be read as an image ({bytes.Length} bytes): {e.Message}", e);
        }
    }

    /// <summary>
    /// Decodes an encoded image with straight (unpremultiplied) alpha, so that dropping the alpha gives the colours Pillow's
    /// <c>convert("RGB")</c> gives; <c>MLImage</c> premultiplies them (a half-transparent pixel would come out half as bright).
    /// </summary>
    public static ImageSource Decode(byte[] bytes)
    {
        using var stream = new SKMemoryStream(bytes);
        using var codec = SKCodec.Create(stream) ?? throw new InvalidDataException("the data is not an image format SkiaSharp decodes (PNG, JPEG, BMP, GIF, WebP, ...).");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        var result = codec.GetPixels(info, pixels);
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            throw new InvalidDataException($"the image could not be decoded ({result}).");
        }

        return new ImageSource(pixels, info.Width, info.Height, PixelFormat.Rgba);
    }

    private static ImageSource FromImage(MLImage image)
        => new(image.Pixels.ToArray(), image.Width, image.Height, image.PixelFormat == MLPixelFormat.Bgra32 ? PixelFormat.Bgra : PixelFormat.Rgba);
}

/// <summary>
/// Reads the current row's image and preprocesses it into its slot of the input tensor. A failure throws, naming the column and the
/// row position; with ContinueOnError it clears the slot and is reported instead.
/// </summary>
internal sealed class ImageSlotFiller
{
    private readonly Func<ImageSource> _read;
    private readonly ImagePreprocessor _preprocessor;
    private readonly string _columnName;
    private readonly bool _continueOnError;

    public ImageSlotFiller(Func<ImageSource> read, ImagePreprocessor preprocessor, string columnName, bool continueOnError)
    {
        _read = read;
        _preprocessor = preprocessor;
        _columnName = columnName;
        _continueOnError = continueOnError;
    }

    /// <summary>Fills <paramref name="destination"/>; false when the image could not be read and ContinueOnError is on (the slot is then zeros).</summary>
    public bool TryFill(Span<float> destination, long position)
    {
        try
        {
            var image = _read();
            if (image.IsFloat)
            {
                _preprocessor.Run(image.Floats.Span, image.Width, image.Height, image.Format, destination);
            }
            else if (!_preprocessor.TryRunDirect(image.Pixels.Span, image.Width, image.Height, image.Format, destination))
            {
                _preprocessor.Run(image.Pixels.Span, image.Width, image.Height, image.Format, destination);
            }

            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (!_continueOnError)
            {
                throw new InvalidOperationException($"Could not read the image in column '{_columnName}' at row position {position}: {e.Message}", e);
            }

            destination.Clear();
            return false;
        }
    }
}
