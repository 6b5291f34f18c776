using System;
using System.IO;
using Microsoft.ML;

namespace MlNotes.Serving.Sample;

/// <summary>Turns the bundled ONNX graphs into the model zips the pools load and watch (what a training job would publish).</summary>
public static class BundledModels
{
    /// <summary>The folder of the bundled graphs, copied beside the app.</summary>
    public static string GraphFolder => Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>Saves an image classifier over <paramref name="graph"/> (a name in <see cref="GraphFolder"/>) as <paramref name="zip"/>.</summary>
    public static void SaveClassifier(string graph, string zip)
    {
        var ml = new MLContext();
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<ImageRow>());
        var pipeline = ml.Transforms.ClassifyImageOnnx(Path.Combine(GraphFolder, graph + ".onnx"), nameof(ImageRow.Image))
            .Append(ml.Transforms.Conversion.MapKeyToValue(nameof(ImagePrediction.PredictedClass), "PredictedLabel"));
        Save(ml, pipeline.Fit(empty), empty, zip);
    }

    /// <summary>Saves the text encoder over <paramref name="graph"/> (L2-normalized embeddings) as <paramref name="zip"/>.</summary>
    public static void SaveTextEncoder(string graph, string zip)
    {
        var ml = new MLContext();
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<TextRow>());
        var pipeline = ml.Transforms.EncodeTextOnnx(Path.Combine(GraphFolder, graph + ".onnx"), nameof(TextRow.Text), normalize: true);
        Save(ml, pipeline.Fit(empty), empty, zip);
    }

    private static void Save(MLContext ml, ITransformer model, IDataView data, string zip)
    {
        // Written beside the target and renamed over it: a watching pool never reads half a file.
        string partial = zip + ".partial";
        try
        {
            ml.Model.Save(model, data.Schema, partial);
            File.Move(partial, zip, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
            DisposeModel(model);
        }
    }

    /// <summary>Releases the native sessions of a model (each transformer of a chain).</summary>
    public static void DisposeModel(ITransformer model)
    {
        if (model is System.Collections.Generic.IEnumerable<ITransformer> chain)
        {
            foreach (var transformer in chain)
            {
                (transformer as IDisposable)?.Dispose();
            }
        }

        (model as IDisposable)?.Dispose();
    }
}
