using System;
using System.IO;
using System.Linq;
using Microsoft.ML;

namespace MlNotes.Samples.Vision;

/// <summary>
/// Image classification with the notes' ViT (or the ResNet: the same code, another manifest): load the committed
/// Fashion-MNIST PNGs, classify them in batches, evaluate with ML.NET's evaluator, save the model, and predict one image
/// from the saved zip.
/// </summary>
public static class FashionClassificationScenario
{
    public static FashionScenarioResult Run(string graph, SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string folder = context.FashionSubset;
        IDataView data = ml.Data.LoadFromTextFile<FashionModelInput>(Path.Combine(folder, "labels.csv"), separatorChar: ',', hasHeader: true);
        if (context.Quick)
        {
            data = ml.Data.TakeRows(data, 200);
        }

        string modelFile = context.Model(graph + ".onnx");
        string[] classes = context.FashionClasses();

        // The pipeline: key the label by the model's class names, load the PNGs, classify, name the prediction.
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FashionModelInput.LabelName),
                keyData: ml.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c })))
            .Append(ml.Transforms.LoadImages("Image", folder, nameof(FashionModelInput.ImagePath)))
            .Append(ml.Transforms.ClassifyImageOnnx(modelFile, batchSize: 128))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var model = pipeline.Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), "Label", "Score", "PredictedLabel");
        watch.Stop();
        context.Log($"{graph}: accuracy {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}), log-loss {metrics.LogLoss:F3} on {metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()):N0} images in {watch.Elapsed.TotalSeconds:F1} s");
        string confusion = Path.Combine(context.OutputFolder, graph + "-confusion.png");
        Report.Charts.ConfusionMatrix(confusion, $"{graph}: Fashion-MNIST subset, accuracy {metrics.MicroAccuracy:P1}", metrics.ConfusionMatrix.Counts, classes);
        context.Picture(confusion, $"{graph}: confusion matrix on the committed Fashion-MNIST subset (rows: true class)");

        string zip = FashionClassifier.ModelPath(context.OutputFolder, graph);
        ml.Model.Save(model, data.Schema, zip);
        foreach (var transformer in model)
        {
            (transformer as IDisposable)?.Dispose();
        }

        var first = ml.Data.CreateEnumerable<FashionModelInput>(data, reuseRowObject: false).First();
        using var classifier = new FashionClassifier(zip);
        var prediction = classifier.Predict(first);
        context.Log($"{graph}: {first.ImagePath} is a {first.LabelName}; predicted {prediction.PredictedLabel} ({prediction.Score.Max():P1}); model saved to {zip}");
        return new FashionScenarioResult(metrics.MicroAccuracy, prediction.PredictedLabel, zip);
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }
}

/// <summary>What the scenario measured.</summary>
public sealed record FashionScenarioResult(double Accuracy, string FirstPrediction, string ModelZip);
