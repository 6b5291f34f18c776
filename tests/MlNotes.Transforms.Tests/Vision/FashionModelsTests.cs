using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

/// <summary>The notes' ViT and ResNet (models-onnx) on the committed Fashion-MNIST subset, through real ML.NET pipelines.</summary>
public sealed class FashionModelsTests
{
    public sealed class FashionImage
    {
        [LoadColumn(0)]
        public string ImagePath { get; set; } = "";

        [LoadColumn(1)]
        public int Label { get; set; }

        [LoadColumn(2)]
        public string LabelName { get; set; } = "";
    }

    [Theory]
    [InlineData("vit-fashion")]
    [InlineData("resnet-fashion")]
    [InlineData("resnet-fashion-seen")]
    public void Fixtures_ScoresAndEmbeddings_EqualPyTorch(string graph)
    {
        var ml = new MLContext(seed: 1);
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", graph + ".json"))));
        var root = fixture.RootElement;
        var images = root.GetProperty("images").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToArray();
        float[] Flat(string kind, string name) => root.GetProperty(kind).GetProperty(name).GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var logits = Flat("outputs", "logits");
        var embeddings = Flat("outputs", "embedding");
        int classes = logits.Length / images.Length, size = embeddings.Length / images.Length;
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new FashionImage { ImagePath = i }));
        var loaded = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionImage.ImagePath)).Fit(data).Transform(data);
        using var classifier = ml.Transforms.ClassifyImageOnnx(RepoPaths.Model(graph + ".onnx")).Fit(loaded);
        var output = classifier.Transform(loaded);

        var scores = output.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var embedded = output.GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();

        for (int i = 0; i < images.Length; i++)
        {
            var expected = OnnxImageClassifierTests.Softmax(logits.Skip(i * classes).Take(classes).ToArray());
            Onnx.OnnxScoringTransformerTests.AssertClose(expected, scores[i], 1e-4f);
            Onnx.OnnxScoringTransformerTests.AssertClose(embeddings.Skip(i * size).Take(size).ToArray(), embedded[i], 1e-4f);
        }
    }

    [Theory]
    [InlineData("vit-fashion", "vit")]
    [InlineData("resnet-fashion", "resnet")]
    public void SubsetAccuracy_ThroughEvaluate_EqualsPyTorch(string graph, string metricsKey)
    {
        var ml = new MLContext(seed: 1);
        var data = LoadSubset(ml);
        var classes = RepoPaths.FashionClasses();
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FashionImage.LabelName), keyData: ml.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c })))
            .Append(ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionImage.ImagePath)))
            .Append(ml.Transforms.ClassifyImageOnnx(RepoPaths.Model(graph + ".onnx"), batchSize: 128));
        var model = pipeline.Fit(data);

        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), labelColumnName: "Label", scoreColumnName: "Score", predictedLabelColumnName: "PredictedLabel");

        double expected = RepoPaths.Metric(metricsKey, "subset_accuracy");
        Assert.True(Math.Abs(metrics.MicroAccuracy - expected) <= 0.001, $"{graph}: ML.NET {metrics.MicroAccuracy:F4}, PyTorch {expected:F4}");
        DisposeAll(model);
    }

    [Fact]
    public void Embeddings_FeedAnMlNetTrainer_ThatTrainsEvaluatesSavesAndLoads()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = LoadSubset(ml);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.3, seed: 1);
        // The label keyed in the ViT's class order, so that the ViT's own PredictedLabel can be evaluated against it.
        var classes = ml.Data.LoadFromEnumerable(RepoPaths.FashionClasses().Select(c => new ClassName { Name = c }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FashionImage.LabelName), keyData: classes)
            .Append(ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionImage.ImagePath)))
            .Append(ml.Transforms.ClassifyImageOnnx(new MlNotes.Transforms.Vision.OnnxImageClassifierEstimator.Options
            {
                ModelFile = RepoPaths.Model("vit-fashion.onnx"),
                ScoreColumnName = "VitScore",
                PredictedLabelColumnName = "VitLabel",
                BatchSize = 128,
            }))
            .Append(ml.Transforms.CopyColumns("Features", "Embedding"))
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 20));
        var model = pipeline.Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var vit = ml.MulticlassClassification.Evaluate(scored, "Label", "VitScore", "VitLabel");
        string zip = temp.File("embedding-sdca.zip");
        ml.Model.Save(model, data.Schema, zip);
        var loaded = new MLContext(seed: 2).Model.Load(zip, out _);
        var reloaded = ml.MulticlassClassification.Evaluate(loaded.Transform(split.TestSet));

        // Measured on this split (seed 1, 601 test images): SDCA 0.9135 (549/601), the ViT's own head 0.9285 (558/601); identical over
        // 3 runs and with 1 or 2 SDCA threads. Over split seeds 1-5, SDCA 0.895-0.918 and ViT minus SDCA -0.007..+0.015.
        // A linear probe on the embedding nearly matches the ViT's head: within 0.03 of it (2x the largest gap measured), and at least
        // 0.88 (0.015 under the worst seed); chance is 0.1, so broken embeddings (or labels) fail both.
        Assert.Equal(601, metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()));
        Assert.Equal(558.0 / 601, vit.MicroAccuracy, 12);
        Assert.True(metrics.MicroAccuracy >= vit.MicroAccuracy - 0.03, $"SDCA on ViT embeddings {metrics.MicroAccuracy:F4}, the ViT itself {vit.MicroAccuracy:F4}");
        Assert.InRange(metrics.MicroAccuracy, 0.88, 0.95);
        Assert.Equal(metrics.MicroAccuracy, reloaded.MicroAccuracy);
        Assert.Equal(metrics.LogLoss, reloaded.LogLoss, 6);
        DisposeAll(model);
        DisposeAll((TransformerChain<ITransformer>)loaded);
    }

    [Fact]
    public void RawPixelBytes_GiveTheSameScoresAsThePngs()
    {
        var ml = new MLContext(seed: 1);
        var images = LoadSubset(ml, take: 16);
        var rows = ml.Data.CreateEnumerable<FashionImage>(images, reuseRowObject: false).ToArray();
        var pixels = rows.Select(r =>
        {
            using var image = MLImage.CreateFromFile(Path.Combine(RepoPaths.FashionSubset, r.ImagePath));
            var source = image.Pixels.ToArray();
            return new RawImage { Pixels = Enumerable.Range(0, 28 * 28).Select(p => source[(4 * p) + 1]).ToArray() };
        }).ToArray();
        var loaded = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionImage.ImagePath)).Fit(images).Transform(images);
        using var fromPng = ml.Transforms.ClassifyImageOnnx(RepoPaths.Model("vit-fashion.onnx")).Fit(loaded);
        var raw = ml.Data.LoadFromEnumerable(pixels);
        using var fromBytes = ml.Transforms.ClassifyImageOnnx(new MlNotes.Transforms.Vision.OnnxImageClassifierEstimator.Options
        {
            ModelFile = RepoPaths.Model("vit-fashion.onnx"),
            InputColumnName = nameof(RawImage.Pixels),
            RawPixelChannels = 1,
        }).Fit(raw);

        var a = fromPng.Transform(loaded).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var b = fromBytes.Transform(raw).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(a, b);
    }

    private static IDataView LoadSubset(MLContext ml, int take = int.MaxValue)
    {
        var all = ml.Data.LoadFromTextFile<FashionImage>(Path.Combine(RepoPaths.FashionSubset, "labels.csv"), separatorChar: ',', hasHeader: true);
        return take == int.MaxValue ? all : ml.Data.TakeRows(all, take);
    }

    internal static void DisposeAll(System.Collections.Generic.IEnumerable<ITransformer> model)
    {
        foreach (var t in model)
        {
            (t as IDisposable)?.Dispose();
        }
    }

    public sealed class ClassName
    {
        public string Name { get; set; } = "";
    }

    public sealed class RawImage
    {
        [VectorType(28 * 28)]
        public byte[] Pixels { get; set; } = Array.Empty<byte>();
    }
}
