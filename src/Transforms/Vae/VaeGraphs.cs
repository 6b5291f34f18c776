using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>Reads the source's current row (at <paramref name="position"/>, for the error) into <paramref name="destination"/>.</summary>
internal delegate void PixelReader(Span<float> destination, long position);

/// <summary>What the VAE and VQ-VAE mappers share: opening their graphs, binding tensors to columns, reading a row's image.</summary>
internal static partial class VaeGraphs
{
    /// <summary>A column bound to the named input or output tensor of <paramref name="model"/>.</summary>
    public static OnnxColumnBinding Bind(OnnxModel model, string column, string tensor, bool isInput)
    {
        var metadata = isInput ? model.InputMetadata : model.OutputMetadata;
        return new OnnxColumnBinding(column, OnnxTensorInfo.Create(tensor, metadata[tensor], model.Name, isInput));
    }

    /// <summary>Opens the graph given as the option <paramref name="option"/> (a file, or its Bytes twin) and checks it against the manifest.</summary>
    public static OnnxModel Open(IHost host, string? file, byte[]? bytes, string option, OnnxExecutionSettings settings, ModelManifest? manifest)
    {
        if (file == null && bytes == null)
        {
            ThrowHelper.BadOption(option, $"Give the ONNX model as {option} or {option.Replace("File", "Bytes", StringComparison.Ordinal)}.");
        }

        byte[] data = OnnxModel.ReadBytes(file, bytes, out string name, option);
        var model = OnnxModel.Create(host, data, name, settings, fromSavedModel: false);
        try
        {
            manifest?.Validate(model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the source's current row's image into the encoder's input (an MLImage preprocessed by <paramref name="preprocessor"/>,
    /// or a pixel vector as is); a missing or unreadable image throws, naming the column and the row's position.
    /// </summary>
    public static PixelReader ImageReader(DataViewRow source, string inputColumn, ImagePreprocessor? preprocessor)
    {
        var read = TryImageReader(source, inputColumn, preprocessor);
        return (destination, position) =>
        {
            try
            {
                if (!read(destination))
                {
                    throw new System.IO.InvalidDataException("the image is missing (LoadImages gives no image for an empty path).");
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"Could not read the image in column '{inputColumn}' at row position {position}: {e.Message}", e);
            }
        };
    }

    /// <summary>One row's image into the encoder's input, as <see cref="ImageReader"/>; false for a missing image.</summary>
    private static Func<Span<float>, bool> TryImageReader(DataViewRow source, string inputColumn, ImagePreprocessor? preprocessor)
    {
        var column = source.Schema[inputColumn];
        if (column.Type is ImageDataViewType)
        {
            var getter = source.GetGetter<MLImage>(column);
            MLImage image = null!;
            return destination =>
            {
                getter(ref image);
                if (image == null)
                {
                    return false;
                }

                var format = image.PixelFormat == MLPixelFormat.Bgra32 ? PixelFormat.Bgra : PixelFormat.Rgba;
                preprocessor!.Run(image.Pixels, image.Width, image.Height, format, destination);
                return true;
            };
        }

        var vectorGetter = source.GetGetter<VBuffer<float>>(column);
        VBuffer<float> pixels = default;
        return destination =>
        {
            vectorGetter(ref pixels);
            if (pixels.Length != destination.Length)
            {
                throw new System.IO.InvalidDataException($"the pixel vector has {pixels.Length} values, expected {destination.Length}.");
            }

            pixels.CopyTo(destination);
            return true;
        };
    }
}
