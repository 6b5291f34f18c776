using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.ML;
using MlNotes.Samples.Vision;
using MlNotes.Transforms.Text;
using MlNotes.Transforms.Vision;

namespace MlNotes.Samples.InfoNce;

/// <summary>
/// Two frozen encoders brought into one space by a small InfoNCE head, as the notes' CLIP does with its towers: the ViT's image
/// embeddings (ClassifyImageOnnx) and the fortunes Transformer's embeddings of captions ("a photo of a sneaker.", EncodeTextOnnx).
/// Trained on image/caption pairs of the first part of the committed Fashion-MNIST subset; the rest is classified zero-shot by its
/// nearest class caption (averaged over templates not seen in training), beside the CLIP graph's zero-shot accuracy.
/// </summary>
public static class AlignmentScenario
{
    public static AlignmentScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        using var clip = JsonDocument.Parse(File.ReadAllText(context.Model("clip-fashion-text.json")));
        string[] names = clip.RootElement.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()!).ToArray();
        string[] trainTemplates = clip.RootElement.GetProperty("train_templates").EnumerateArray().Select(e => e.GetString()!).ToArray();
        string[] testTemplates = clip.RootElement.GetProperty("zero_shot_templates").EnumerateArray().Select(e => e.GetString()!).ToArray();

        var all = ml.Data.CreateEnumerable<FashionModelInput>(
            ml.Data.LoadFromTextFile<FashionModelInput>(Path.Combine(context.FashionSubset, "labels.csv"), separatorChar: ',', hasHeader: true), reuseRowObject: false).ToArray();
        int trainCount = context.Quick ? 600 : 1500, testCount = context.Quick ? 200 : all.Length - 1500;
        var random = new Random(1);
        var train = all.Take(trainCount).Select(r => new Pair { ImagePath = r.ImagePath, Label = r.Label, Caption = Caption(trainTemplates[random.Next(trainTemplates.Length)], names[r.Label]) }).ToArray();
        var test = all.Skip(trainCount).Take(testCount).Select(r => new Pair { ImagePath = r.ImagePath, Label = r.Label, Caption = "" }).ToArray();

        // The frozen encoders: image -> ViT embedding, caption -> Transformer embedding (the graph's pooled output).
        using var images = ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = context.Model("vit-fashion.onnx"),
            InputColumnName = nameof(Pair.ImagePath),
            ImageFolder = context.FashionSubset,
            EmbeddingColumnName = "ImageEmbedding",
            ScoreColumnName = "VitScore",
            PredictedLabelColumnName = "VitLabel",
            BatchSize = 128,
        }).Fit(ml.Data.LoadFromEnumerable(train));
        using var captions = ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options
        {
            ModelFile = context.Model("text-fortunes.onnx"),
            InputColumnName = nameof(Pair.Caption),
            EmbeddingColumnName = "CaptionEmbedding",
            ScoreColumnName = "TopicScore",
            PredictedLabelColumnName = "Topic",
        }).Fit(ml.Data.LoadFromEnumerable(train));
        IDataView Encode(IEnumerable<Pair> rows) => ml.Data.Cache(captions.Transform(images.Transform(ml.Data.LoadFromEnumerable(rows))));

        // The head: two projections trained with the symmetric InfoNCE loss over in-batch negatives.
        var estimator = ml.Transforms.InfoNce(new MlNotes.Trainers.InfoNce.InfoNceEstimator.Options
        {
            ColumnNameA = "ImageEmbedding",
            ColumnNameB = "CaptionEmbedding",
            EmbeddingSize = 32,

            // Linear heads: the caption side has only 70 distinct strings (7 templates x 10 classes), and an MLP head learns them by heart.
            // Measured on this split with held-out templates: linear 87.4 %, one hidden layer of 64 ReLU units 56.8 % (77.4 % after 10 epochs).
            HiddenLayerSizes = Array.Empty<int>(),
            BatchSize = 128,
            NumberOfEpochs = context.Quick ? 20 : 60,
            LearningRate = 3e-3,
            Seed = 1,
        });
        int epochs = context.Quick ? 20 : 60;
        var trainData = Encode(train);
        MlNotes.Trainers.InfoNce.InfoNceTransformer head;
        using (var progress = new Report.TrainingProgress(ml, "InfoNCE", epochs, context.Print))
        {
            head = estimator.Fit(trainData);
            string curves = Path.Combine(context.OutputFolder, "infonce-training.png");
            Report.Charts.Curves(curves, "InfoNCE head: training", progress.Series.Select(p => (p.Key, (IReadOnlyList<double>)p.Value)).ToList());
            context.Picture(curves, "infonce: symmetric InfoNCE loss and learned logit scale per epoch (from the trainer's log)");
        }

        // Zero-shot: each class is the normalized mean of its held-out templates' projected captions.
        var classRows = names.SelectMany((n, c) => testTemplates.Select(t => new Pair { Label = c, Caption = Caption(t, n), ImagePath = test[0].ImagePath })).ToArray();
        var classEmbeddings = new float[names.Length][];
        foreach (var group in ml.Data.CreateEnumerable<Projected>(head.Transform(Encode(classRows)), reuseRowObject: false).GroupBy(p => p.Label))
        {
            var mean = new float[group.First().EmbeddingB.Length];
            foreach (var p in group)
            {
                TensorPrimitives.Add(mean, p.EmbeddingB, mean);
            }

            TensorPrimitives.Divide(mean, TensorPrimitives.Norm(mean), mean);
            classEmbeddings[group.Key] = mean;
        }

        var projected = ml.Data.CreateEnumerable<Projected>(head.Transform(Encode(test)), reuseRowObject: false).ToArray();
        int correct = projected.Count(p => ArgMax(classEmbeddings.Select(c => TensorPrimitives.Dot(c, p.EmbeddingA))) == p.Label);
        double accuracy = (double)correct / projected.Length;
        double clipAccuracy = ClipSubsetAccuracy(context);
        context.Log($"InfoNCE head on ViT image and Transformer caption embeddings: logit scale {head.LogitScale:F1}; zero-shot accuracy {accuracy:P2} on {projected.Length} held-out images with held-out templates");
        context.Log($"The CLIP graph trained end to end (PyTorch, whole 2,000-image subset): zero-shot accuracy {clipAccuracy:P2}");
        return new AlignmentScenarioResult(accuracy, clipAccuracy, projected.Length);
    }

    private static string Caption(string template, string name) => template.Replace("{}", name, StringComparison.Ordinal);

    private static int ArgMax(IEnumerable<float> values) => values.Select((v, i) => (v, i)).MaxBy(p => p.v).i;

    private static double ClipSubsetAccuracy(SampleContext context)
    {
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(context.ModelsOnnx, "metrics.json")));
        return metrics.RootElement.TryGetProperty("clip", out var clip) && clip.TryGetProperty("subset_zero_shot_accuracy", out var value) ? value.GetDouble() : double.NaN;
    }

    private sealed class Pair
    {
        public string ImagePath { get; set; } = "";

        public int Label { get; set; }

        public string Caption { get; set; } = "";
    }

    private sealed class Projected
    {
        public int Label { get; set; }

        public float[] EmbeddingA { get; set; } = Array.Empty<float>();

        public float[] EmbeddingB { get; set; } = Array.Empty<float>();
    }
}

/// <summary>What the alignment measured.</summary>
public sealed record AlignmentScenarioResult(double ZeroShotAccuracy, double ClipZeroShotAccuracy, int TestImages);
