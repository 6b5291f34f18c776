using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Text;
using Xunit;

namespace MlNotes.Transforms.Tests.Text;

/// <summary>The notes' Transformer encoder trained on Debian's fortunes (models-onnx/text-fortunes), through real ML.NET pipelines.</summary>
public sealed class FortunesModelTests
{
    public sealed class Fortune
    {
        [LoadColumn(0)]
        public string Category { get; set; } = "";

        [LoadColumn(1)]
        public string Text { get; set; } = "";
    }

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    [Fact]
    public void TokenIds_EqualPython_OnEveryFixtureSentence()
    {
        var (texts, ids) = FixtureTexts();
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(RepoPaths.Model("text-fortunes.onnx")).Fit(Data(texts));

        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(ids[i], encoder.Tokenize(texts[i]));
        }
    }

    [Theory]
    [InlineData(TextPooling.Graph)]
    [InlineData(TextPooling.Mean)]
    public void PooledEmbeddingsAndScores_EqualPyTorch(TextPooling pooling)
    {
        var (texts, _) = FixtureTexts();
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "text-fortunes.json"))));
        float[] Flat(string name) => fixture.RootElement.GetProperty("outputs").GetProperty(name).GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var pooled = Flat("pooled");
        var logits = Flat("logits");
        var data = Data(texts);
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options
        {
            ModelFile = RepoPaths.Model("text-fortunes.onnx"),
            Pooling = pooling,
        }).Fit(data);
        var output = encoder.Transform(data);

        var embeddings = output.GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();
        var scores = output.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

        int d = encoder.EmbeddingSize, c = encoder.ClassNames.Count;
        for (int i = 0; i < texts.Length; i++)
        {
            Onnx.OnnxScoringTransformerTests.AssertClose(pooled.Skip(i * d).Take(d).ToArray(), embeddings[i], 1e-4f);
            Onnx.OnnxScoringTransformerTests.AssertClose(Vision.OnnxImageClassifierTests.Softmax(logits.Skip(i * c).Take(c).ToArray()), scores[i], 1e-4f);
        }

        // One of the 8 fixture texts (295 words) is cut to 128 tokens, and the two passes above (Embedding, Score) each read it.
        Assert.Equal(2, encoder.TruncatedCount);
    }

    [Fact]
    public void TestSplitAccuracy_ThroughEvaluate_EqualsPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var test = ml.Data.LoadFromTextFile<Fortune>(Path.Combine(RepoPaths.ModelsOnnx, "data", "fortunes", "test.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);
        using var manifest = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model("text-fortunes.json")));
        var classes = manifest.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Fortune.Category), keyData: ml.Data.LoadFromEnumerable(classes.Select(n => new { Name = n })))
            .Append(ml.Transforms.EncodeTextOnnx(RepoPaths.Model("text-fortunes.onnx"), nameof(Fortune.Text)));
        var model = pipeline.Fit(test);

        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test), "Label", "Score", "PredictedLabel");

        double expected = RepoPaths.Metric("text", "subset_accuracy");
        Assert.True(Math.Abs(metrics.MicroAccuracy - expected) <= 0.001, $"ML.NET {metrics.MicroAccuracy:F4}, PyTorch {expected:F4}");
        foreach (var t in model)
        {
            (t as IDisposable)?.Dispose();
        }
    }

    private static IDataView Data(string[] texts) => new MLContext().Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));

    private static (string[] Texts, int[][] Ids) FixtureTexts()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "text-fortunes.json"))));
        var root = fixture.RootElement;
        return (root.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("token_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray());
    }
}
