using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Samples.Vae;
using MlNotes.Samples.Vision;

namespace MlNotes.Samples.Cvae;

/// <summary>
/// The notes' CVAE with FiLM conditioning on the committed Fashion-MNIST PNGs: a class-conditional grid (one row of samples
/// per class, z seeded per row), then the generative classifier (P(c | x) by Bayes' rule from the ten class-conditional
/// ELBOs and the class priors) evaluated with ML.NET's multiclass evaluator next to the bundled ViT on the same images.
/// </summary>
public static class CvaeScenario
{
    private const int SamplesPerClass = 8;

    public static CvaeScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string folder = context.FashionSubset;
        string[] classes = context.FashionClasses();

        // Generation: a label column in, an image per row out.
        var labels = Enumerable.Range(0, classes.Length * SamplesPerClass).Select(i => new LabelRow { Label = i / SamplesPerClass }).ToArray();
        var labelView = ml.Data.LoadFromEnumerable(labels);
        using var generator = ml.Transforms.GenerateCvae(context.Model("cvae-fashion-decoder.onnx"), seed: 7).Fit(labelView);
        var generated = generator.Transform(labelView).GetColumn<float[]>("GeneratedImage").ToList();
        string gridPng = Path.Combine(context.OutputFolder, "cvae-class-grid.png");
        PngGrid.Write(gridPng, generated, columns: SamplesPerClass);
        context.Picture(gridPng, $"cvae: {SamplesPerClass} samples per class, one row per class ({string.Join(", ", classes)}), z ~ N(0, I) seeded per row");

        // The generative classifier and the ViT on the same images, through the same evaluator.
        IDataView data = ml.Data.LoadFromTextFile<FashionModelInput>(Path.Combine(folder, "labels.csv"), separatorChar: ',', hasHeader: true);
        if (context.Quick)
        {
            data = ml.Data.TakeRows(data, 50);
        }

        var prepared = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FashionModelInput.LabelName), keyData: ml.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c })))
            .Append(ml.Transforms.LoadImages("Image", folder, nameof(FashionModelInput.ImagePath)));
        var watch = Stopwatch.StartNew();
        var generative = prepared.Append(ml.Transforms.ClassifyCvae(context.Model("cvae-fashion-encoder.onnx"))).Fit(data);
        var cvae = ml.MulticlassClassification.Evaluate(generative.Transform(data), "Label");
        double cvaeSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var discriminative = prepared.Append(ml.Transforms.ClassifyImageOnnx(context.Model("vit-fashion.onnx"), batchSize: 128)).Fit(data);
        var vit = ml.MulticlassClassification.Evaluate(discriminative.Transform(data), "Label");
        double vitSeconds = watch.Elapsed.TotalSeconds;
        foreach (var model in new System.Collections.Generic.IEnumerable<ITransformer>[] { generative, discriminative })
        {
            foreach (var transformer in model)
            {
                (transformer as IDisposable)?.Dispose();
            }
        }

        int images = (int)cvae.ConfusionMatrix.Counts.Sum(r => r.Sum());
        context.Log($"cvae: generative classifier (argmax of ELBO(x, c) + log P(c), eps = 0) accuracy {cvae.MicroAccuracy:P2} (macro {cvae.MacroAccuracy:P2}), log-loss {cvae.LogLoss:F3} on {images:N0} images in {cvaeSeconds:F1} s");
        context.Log($"cvae: the ViT (discriminative) on the same images: accuracy {vit.MicroAccuracy:P2} (macro {vit.MacroAccuracy:P2}), log-loss {vit.LogLoss:F3} in {vitSeconds:F1} s");
        string confusionPng = Path.Combine(context.OutputFolder, "cvae-confusion.png");
        Report.Charts.ConfusionMatrix(confusionPng, $"cvae generative classifier: accuracy {cvae.MicroAccuracy:P1} (ViT {vit.MicroAccuracy:P1})", cvae.ConfusionMatrix.Counts, classes);
        context.Picture(confusionPng, "cvae: the generative classifier's confusion matrix on the committed Fashion-MNIST subset (rows: true class)");
        context.Log("cvae: confusion matrix (rows: true class, columns: predicted)");
        for (int i = 0; i < classes.Length; i++)
        {
            context.Log($"  {classes[i],-12} {string.Join(" ", cvae.ConfusionMatrix.Counts[i].Select(v => ((int)v).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(4)))}");
        }

        return new CvaeScenarioResult(cvae.MicroAccuracy, vit.MicroAccuracy, images, cvae.ConfusionMatrix.Counts.Select(r => r.Select(v => (int)v).ToArray()).ToArray(), gridPng, confusionPng);
    }

    private sealed class LabelRow
    {
        public int Label { get; set; }
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }
}

/// <summary>What the scenario measured and wrote.</summary>
public sealed record CvaeScenarioResult(double GenerativeAccuracy, double VitAccuracy, int Images, int[][] Confusion, string GridPng, string ConfusionPng);
