using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Text;

namespace MlNotes.Samples.Text;

/// <summary>
/// Text classification and similar-text search with the notes' Transformer encoder, trained on Debian's fortunes: classify the test
/// split and evaluate with ML.NET's evaluator (beside ML.NET's own FeaturizeText + SdcaMaximumEntropy on the same split), save the
/// model, classify one text from the zip, then find the fortunes closest to a query by cosine similarity of the embeddings.
/// </summary>
public static class TextClassificationScenario
{
    public static TextScenarioResult Run(SampleContext context, string query = "A man who talks to himself is never lonely.")
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string folder = Path.Combine(context.ModelsOnnx, "data", "fortunes");
        IDataView test = ml.Data.LoadFromTextFile<FortuneModelInput>(Path.Combine(folder, "test.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
        IDataView train = ml.Data.LoadFromTextFile<FortuneModelInput>(Path.Combine(folder, "train.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
        if (context.Quick)
        {
            test = ml.Data.TakeRows(test, 300);
            train = ml.Data.TakeRows(train, 2_000);
        }

        string model = context.Model("text-fortunes.onnx");
        var classes = ClassNames(context);
        var keyData = ml.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c }));

        // The encoder classifies (its graph has a logits head) and embeds; L2-normalized embeddings make dot products cosines.
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneModelInput.Category), keyData: keyData)
            .Append(ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFile = model, Normalize = true, BatchSize = 32 }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var encoder = pipeline.Fit(test);
        var scored = encoder.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel");
        context.Log($"Transformer encoder: accuracy {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}) on {metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()):N0} test fortunes, {classes.Length} categories");
        string confusion = Path.Combine(context.OutputFolder, "text-confusion.png");
        Report.Charts.ConfusionMatrix(confusion, $"fortunes: test split, accuracy {metrics.MicroAccuracy:P1}", metrics.ConfusionMatrix.Counts, classes);
        context.Picture(confusion, "text: confusion matrix of the fortunes categories (rows: true category)");

        // ML.NET's own text classifier on the same split, for comparison.
        var baseline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneModelInput.Category), keyData: keyData)
            .Append(ml.Transforms.Text.FeaturizeText("Features", nameof(FortuneModelInput.Text)))
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: context.Quick ? 10 : 30));
        var baselineMetrics = ml.MulticlassClassification.Evaluate(baseline.Fit(train).Transform(test));
        context.Log($"ML.NET FeaturizeText + SdcaMaximumEntropy on the same split: accuracy {baselineMetrics.MicroAccuracy:P2} (macro {baselineMetrics.MacroAccuracy:P2})");

        string zip = Path.Combine(context.OutputFolder, "text-classifier.zip");
        ml.Model.Save(encoder, test.Schema, zip);
        using (var classifier = new FortuneClassifier(zip))
        {
            var prediction = classifier.Predict(query);
            context.Log($"\"{query}\" -> {prediction.PredictedCategory} ({prediction.Score.Max():P1}); model saved to {zip}");
        }

        // Similar-text search: the top 3 test fortunes by cosine similarity to the query.
        var rows = ml.Data.CreateEnumerable<FortuneModelOutput>(scored, reuseRowObject: false).ToArray();
        var texts = ml.Data.CreateEnumerable<FortuneModelInput>(test, reuseRowObject: false).Select(r => r.Text).ToArray();
        var queryEmbedding = ml.Data.CreateEnumerable<FortuneModelOutput>(encoder.Transform(ml.Data.LoadFromEnumerable(new[] { new FortuneModelInput { Text = query } })), reuseRowObject: false).Single().Embedding;
        var top = rows.Select((r, i) => (Index: i, Similarity: System.Numerics.Tensors.TensorPrimitives.Dot(r.Embedding, queryEmbedding)))
            .OrderByDescending(p => p.Similarity).Take(3).ToArray();
        context.Log($"Closest fortunes to \"{query}\":");
        foreach (var (index, similarity) in top)
        {
            string text = texts[index].Length > 100 ? texts[index][..100] + "..." : texts[index];
            context.Log($"  {similarity:F3}  {text}");
        }

        foreach (var transformer in encoder)
        {
            (transformer as IDisposable)?.Dispose();
        }

        return new TextScenarioResult(metrics.MicroAccuracy, baselineMetrics.MicroAccuracy, top.Select(t => texts[t.Index]).ToArray());
    }

    private static string[] ClassNames(SampleContext context)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(context.Model("text-fortunes.json")));
        return document.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }
}

/// <summary>What the text scenario measured.</summary>
public sealed record TextScenarioResult(double Accuracy, double BaselineAccuracy, string[] ClosestTexts);
