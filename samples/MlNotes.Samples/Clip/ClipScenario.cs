using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Samples.Vae;
using MlNotes.Samples.Vision;
using MlNotes.Transforms.Vision;

namespace MlNotes.Samples.Clip;

/// <summary>
/// The notes' CLIP, trained in PyTorch on Fashion-MNIST captions: classify the committed images from nothing but label names and
/// prompt templates (zero-shot), evaluate with ML.NET's evaluator, and search the images with text queries.
/// </summary>
public static class ClipScenario
{
    public static ClipScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string folder = context.FashionSubset;
        IDataView data = ml.Data.LoadFromTextFile<FashionModelInput>(Path.Combine(folder, "labels.csv"), separatorChar: ',', hasHeader: true);
        if (context.Quick)
        {
            data = ml.Data.TakeRows(data, 300);
        }

        string imageTower = context.Model("clip-fashion-image.onnx");
        string textTower = context.Model("clip-fashion-text.onnx");
        string[] classes = context.FashionClasses();

        // 1. Zero-shot: the labels' prompts ("a blurry photo of a {}.", ...) are embedded once at Fit; images are compared to them.
        var keyData = ml.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FashionModelInput.LabelName), keyData: keyData)
            .Append(ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
            {
                ModelFile = imageTower,
                InputColumnName = nameof(FashionModelInput.ImagePath),
                ImageFolder = folder,
                BatchSize = 128,
            }))
            .Append(ml.Transforms.ClassifyZeroShot(textTower))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var model = pipeline.Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), "Label", "Score", "PredictedLabel");
        var zeroShot = model.OfType<MlNotes.Transforms.Clip.ZeroShotClassifierTransformer>().Single();
        context.Log($"clip zero-shot: accuracy {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}) on {metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()):N0} images, " +
            $"from {zeroShot.Labels.Count} label names and held-out prompt templates, logit scale {zeroShot.LogitScale:F2}");
        string confusion = Path.Combine(context.OutputFolder, "clip-confusion.png");
        Report.Charts.ConfusionMatrix(confusion, $"CLIP zero-shot: Fashion-MNIST subset, accuracy {metrics.MicroAccuracy:P1}", metrics.ConfusionMatrix.Counts, classes);
        context.Picture(confusion, "clip: zero-shot confusion matrix (no image of the labels was used to build the classifier)");
        string zip = Path.Combine(context.OutputFolder, "clip-zero-shot.zip");
        ml.Model.Save(model, data.Schema, zip);
        Dispose(model);

        var first = ml.Data.CreateEnumerable<FashionModelInput>(data, reuseRowObject: false).First();
        string firstPrediction;
        using (var classifier = new ClipZeroShotClassifier(zip))
        {
            var prediction = classifier.Predict(first);
            firstPrediction = prediction.PredictedLabel;
            context.Log($"clip: {first.ImagePath} is a {first.LabelName}; zero-shot says {prediction.PredictedLabel} ({prediction.Score.Max():P1}); model saved to {zip}");
        }

        // 2. Text-to-image search: index the images' embeddings, embed the query with the text tower, take the 8 nearest.
        var imageEmbeddings = ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = imageTower,
            InputColumnName = nameof(FashionModelInput.ImagePath),
            ImageFolder = folder,
            OutputColumnName = "Embedding",
            BatchSize = 128,
        }).Fit(data);
        var index = ml.Transforms.RetrieveNearestEmbeddings(topK: 8, indexKeyColumnName: nameof(FashionModelInput.ImagePath)).Fit(imageEmbeddings.Transform(data));
        imageEmbeddings.Dispose();
        var queries = ml.Data.LoadFromEnumerable(new[] { new ImageSearchQuery() });
        var search = ml.Transforms.EncodeClipText(textTower, outputColumnName: "Embedding", inputColumnName: nameof(ImageSearchQuery.Text)).Fit(queries);
        var searchModel = new TransformerChain<ITransformer>(search, index);
        string searchZip = Path.Combine(context.OutputFolder, "clip-image-search.zip");
        ml.Model.Save(searchModel, queries.Schema, searchZip);
        search.Dispose();

        var labels = ml.Data.CreateEnumerable<FashionModelInput>(data, reuseRowObject: false).ToDictionary(r => r.ImagePath, r => r.LabelName);
        string[] questions = { "a photo of a sneaker.", "a bag.", "a long dress.", "trousers" };
        double hits = 0;
        var found = new System.Collections.Generic.List<float[]>();
        using (var engine = new ClipImageSearch(searchZip))
        {
            foreach (string question in questions)
            {
                var result = engine.Search(question);
                var names = result.ImagePaths.Select(p => labels[p]).ToArray();
                hits += names.Count(n => Matches(question, n)) / (double)names.Length;
                context.Log($"clip search \"{question}\": {string.Join(", ", names.Select((n, i) => $"{n} ({result.Similarities[i]:F2})"))}");
                found.AddRange(result.ImagePaths.Select(p => Pixels(Path.Combine(folder, p))));
            }
        }

        string grid = Path.Combine(context.OutputFolder, "clip-search.png");
        PngGrid.Write(grid, found, columns: 8);
        context.Picture(grid, $"clip: the 8 nearest images for each query, one row per query: {string.Join(" | ", questions)}");
        double precision = hits / questions.Length;
        context.Log($"clip search: precision@8 {precision:P0} over {questions.Length} queries; search model saved to {searchZip}");
        return new ClipScenarioResult(metrics.MicroAccuracy, firstPrediction, precision, zip, searchZip);
    }

    // A query matches a class when the query names it (sneaker -> Sneaker, trousers -> Trouser, a long dress -> Dress).
    private static bool Matches(string query, string label)
        => query.Contains(label.Split('/')[0].ToLowerInvariant(), StringComparison.Ordinal);

    private static float[] Pixels(string path)
    {
        using var image = MLImage.CreateFromFile(path);
        var rgba = image.Pixels.ToArray();
        return Enumerable.Range(0, image.Width * image.Height).Select(i => rgba[(4 * i) + 1] / 255f).ToArray();
    }

    private static void Dispose(System.Collections.Generic.IEnumerable<ITransformer> model)
    {
        foreach (var transformer in model)
        {
            (transformer as IDisposable)?.Dispose();
        }
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }
}

/// <summary>What the scenario measured.</summary>
public sealed record ClipScenarioResult(double ZeroShotAccuracy, string FirstPrediction, double SearchPrecision, string ModelZip, string SearchZip);
