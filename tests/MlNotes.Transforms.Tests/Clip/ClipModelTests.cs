using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Tests.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Clip;

/// <summary>The notes' CLIP (models-onnx: image and text towers trained on Fashion-MNIST captions) through real ML.NET pipelines.</summary>
public sealed class ClipModelTests
{
    private static readonly string s_image = RepoPaths.Model("clip-fashion-image.onnx");
    private static readonly string s_text = RepoPaths.Model("clip-fashion-text.onnx");

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    [Fact]
    public void ImageTower_Embeddings_EqualPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var (images, expected) = ImageFixture();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new PathRow { ImagePath = i }));
        using var tower = ml.Transforms.EncodeClipImage(new MlNotes.Transforms.Vision.OnnxImageEncoderEstimator.Options
        {
            ModelFile = s_image,
            InputColumnName = nameof(PathRow.ImagePath),
            ImageFolder = RepoPaths.FashionSubset,
        }).Fit(data);

        var actual = tower.Transform(data).GetColumn<VBuffer<float>>("ImageEmbedding").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(64, tower.EmbeddingSize);
        for (int i = 0; i < images.Length; i++)
        {
            Onnx.OnnxScoringTransformerTests.AssertClose(expected[i], actual[i], 1e-4f);
            Assert.Equal(1.0, Math.Sqrt(actual[i].Sum(v => (double)v * v)), 5);
        }
    }

    [Fact]
    public void TextTower_TokenIdsAndEmbeddings_EqualPyTorch()
    {
        var ml = new MLContext(seed: 1);
        using var fixture = Fixture("clip-fashion-text");
        var root = fixture.RootElement;
        var texts = root.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var ids = root.GetProperty("token_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        var expected = Rows(root.GetProperty("outputs").GetProperty("text_embeds"));
        var data = ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));
        using var tower = ml.Transforms.EncodeClipText(s_text).Fit(data);

        var actual = tower.Transform(data).GetColumn<VBuffer<float>>("TextEmbedding").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(MlNotes.Transforms.Text.TextPooling.Graph, tower.Config.Pooling);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(ids[i], tower.Tokenize(texts[i]));
            Onnx.OnnxScoringTransformerTests.AssertClose(expected[i], actual[i], 1e-4f);
        }
    }

    [Fact]
    public async System.Threading.Tasks.Task TextTower_AsEmbeddingGenerator_GivesTheTransformsVectors()
    {
        var ml = new MLContext(seed: 1);
        var texts = new[] { "a photo of a sneaker.", "an ankle boot", "", "a close-up photo of the bag." };
        var data = ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));
        using var tower = ml.Transforms.EncodeClipText(s_text).Fit(data);
        var fromTransform = tower.Transform(data).GetColumn<VBuffer<float>>("TextEmbedding").Select(v => v.DenseValues().ToArray()).ToArray();

        var generated = await tower.AsEmbeddingGenerator().GenerateAsync(texts);

        Assert.Equal(texts.Length, generated.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(fromTransform[i], generated[i].Vector.ToArray());
        }
    }

    [Fact]
    public void ZeroShot_LabelEmbeddings_EqualThePromptEnsembleOfPyTorch()
    {
        var ml = new MLContext(seed: 1);
        using var fixture = Fixture("clip-fashion-text");
        var expected = Rows(fixture.RootElement.GetProperty("zero_shot_class_embeds"));
        var data = EmbeddingData(ml, 64);

        var classifier = ml.Transforms.ClassifyZeroShot(s_text).Fit(data);

        Assert.Equal(RepoPaths.FashionClasses(), classifier.Labels);
        Assert.Equal((float)RepoPaths.Metric("clip", "logit_scale"), classifier.LogitScale, 4);
        for (int label = 0; label < expected.Length; label++)
        {
            Onnx.OnnxScoringTransformerTests.AssertClose(expected[label], classifier.GetLabelEmbedding(label).ToArray(), 1e-4f);
        }
    }

    [Fact]
    public void ZeroShot_SubsetAccuracy_ThroughEvaluate_EqualsPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var data = LoadSubset(ml);
        var classes = RepoPaths.FashionClasses();
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FashionModelsTests.FashionImage.LabelName),
                keyData: ml.Data.LoadFromEnumerable(classes.Select(c => new FashionModelsTests.ClassName { Name = c })))
            .Append(ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionModelsTests.FashionImage.ImagePath)))
            .Append(ml.Transforms.EncodeClipImage(s_image, batchSize: 128))
            .Append(ml.Transforms.ClassifyZeroShot(s_text));
        var model = pipeline.Fit(data);

        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), labelColumnName: "Label");

        double expected = RepoPaths.Metric("clip", "subset_zero_shot_accuracy");
        Assert.True(Math.Abs(metrics.MicroAccuracy - expected) <= 0.005, $"zero-shot: ML.NET {metrics.MicroAccuracy:F4}, PyTorch {expected:F4}");
        FashionModelsTests.DisposeAll(model);
    }

    [Fact]
    public void Similarity_OfImageAndTextEmbeddings_EqualsPyTorchLogitsPerImage()
    {
        var ml = new MLContext(seed: 1);
        var (_, images) = ImageFixture();
        using var textFixture = Fixture("clip-fashion-text");
        var texts = Rows(textFixture.RootElement.GetProperty("outputs").GetProperty("text_embeds"));
        using var imageFixture = Fixture("clip-fashion-image");
        var logits = Rows(imageFixture.RootElement.GetProperty("logits_per_image"));
        var pairs = images.SelectMany((image, i) => texts.Select((text, t) => new PairRow { ImageEmbedding = image, TextEmbedding = text })).ToArray();
        var data = ml.Data.LoadFromEnumerable(pairs, PairRow.Schema(64));

        var similarity = ml.Transforms.ComputeEmbeddingSimilarity(new EmbeddingSimilarityEstimator.Options { ManifestFile = RepoPaths.Model("clip-fashion-image.json") }).Fit(data);
        var actual = similarity.Transform(data).GetColumn<float>("Similarity").ToArray();

        var expected = logits.SelectMany(row => row).ToArray();
        Onnx.OnnxScoringTransformerTests.AssertClose(expected, actual, 1e-3f);
    }

    [Fact]
    public void TextToImageSearch_FindsTheQueriedClass()
    {
        var ml = new MLContext(seed: 1);
        var subset = LoadSubset(ml);
        var index = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionModelsTests.FashionImage.ImagePath))
            .Append(ml.Transforms.EncodeClipImage(s_image, outputColumnName: "Embedding", batchSize: 128))
            .Fit(subset);
        var images = index.Transform(subset);
        var search = ml.Transforms.RetrieveNearestEmbeddings(new EmbeddingRetrievalEstimator.Options
        {
            TopK = 10,
            IndexKeyColumnName = nameof(FashionModelsTests.FashionImage.LabelName),
        }).Fit(images);
        var queries = ml.Data.LoadFromEnumerable(new[] { "a photo of a trouser.", "a photo of a sneaker.", "a photo of a bag." }.Select(t => new TextRow { Text = t }));
        using var text = ml.Transforms.EncodeClipText(s_text, outputColumnName: "Embedding").Fit(queries);

        var matches = search.Transform(text.Transform(queries)).GetColumn<VBuffer<ReadOnlyMemory<char>>>("TopKKeys").Select(v => v.DenseValues().Select(k => k.ToString()).ToArray()).ToArray();

        Assert.True(matches[0].Count(k => k == "Trouser") >= 9, string.Join(", ", matches[0]));
        Assert.True(matches[1].Count(k => k == "Sneaker") >= 9, string.Join(", ", matches[1]));
        Assert.True(matches[2].Count(k => k == "Bag") >= 9, string.Join(", ", matches[2]));
        FashionModelsTests.DisposeAll(index);
    }

    [Fact]
    public void ZeroShotPipeline_SavesAndLoadsInAFreshContext_WithIdenticalScores_AndPredictionEngineAgrees()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = LoadSubset(ml, take: 40);
        var pipeline = ml.Transforms.EncodeClipImage(new MlNotes.Transforms.Vision.OnnxImageEncoderEstimator.Options
            {
                ModelFile = s_image,
                InputColumnName = nameof(FashionModelsTests.FashionImage.ImagePath),
                ImageFolder = RepoPaths.FashionSubset,
                BatchSize = 16,
            })
            .Append(ml.Transforms.ClassifyZeroShot(s_text, labels: new[] { "trouser", "sneaker", "bag", "dress" }, templates: new[] { "a photo of a {}.", "a picture of a {}." }));
        var model = pipeline.Fit(data);
        var before = model.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        string zip = temp.File("zero-shot.zip");
        ml.Model.Save(model, data.Schema, zip);
        FashionModelsTests.DisposeAll(model);

        var fresh = new MLContext(seed: 7);
        var loaded = fresh.Model.Load(zip, out _);
        var after = loaded.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var engine = fresh.Model.CreatePredictionEngine<FashionModelsTests.FashionImage, ScoreRow>(loaded);
        var first = engine.Predict(fresh.Data.CreateEnumerable<FashionModelsTests.FashionImage>(data, reuseRowObject: false).First());

        Assert.Equal(before, after);
        Onnx.OnnxScoringTransformerTests.AssertClose(before[0], first.Score, 1e-6f);
        VBuffer<ReadOnlyMemory<char>> keys = default;
        loaded.Transform(data).Schema["PredictedLabel"].GetKeyValues(ref keys);
        Assert.Equal(new[] { "trouser", "sneaker", "bag", "dress" }, keys.DenseValues().Select(k => k.ToString()));
        engine.Dispose();
        FashionModelsTests.DisposeAll((TransformerChain<ITransformer>)loaded);
    }

    [Fact]
    public void ImageTower_Dispose_ReleasesTheSession()
    {
        var ml = new MLContext(seed: 1);
        var data = LoadSubset(ml, take: 2);
        var tower = ml.Transforms.EncodeClipImage(new MlNotes.Transforms.Vision.OnnxImageEncoderEstimator.Options
        {
            ModelFile = s_image,
            InputColumnName = nameof(FashionModelsTests.FashionImage.ImagePath),
            ImageFolder = RepoPaths.FashionSubset,
        }).Fit(data);
        tower.Dispose();

        Assert.Throws<ObjectDisposedException>(() => tower.Transform(data));
    }

    internal static float[][] Rows(JsonElement tensor)
    {
        var shape = tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var data = tensor.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        int width = data.Length / shape[0];
        return Enumerable.Range(0, shape[0]).Select(r => data.Skip(r * width).Take(width).ToArray()).ToArray();
    }

    private static (string[] Images, float[][] Embeddings) ImageFixture()
    {
        using var fixture = Fixture("clip-fashion-image");
        var root = fixture.RootElement;
        var images = root.GetProperty("images").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToArray();
        return (images, Rows(root.GetProperty("outputs").GetProperty("image_embeds")));
    }

    private static JsonDocument Fixture(string graph) => JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", graph + ".json"))));

    private static IDataView EmbeddingData(MLContext ml, int size)
        => ml.Data.LoadFromEnumerable(new[] { new PairRow { ImageEmbedding = new float[size], TextEmbedding = new float[size] } }, PairRow.Schema(size));

    private static IDataView LoadSubset(MLContext ml, int take = int.MaxValue)
    {
        var all = ml.Data.LoadFromTextFile<FashionModelsTests.FashionImage>(Path.Combine(RepoPaths.FashionSubset, "labels.csv"), separatorChar: ',', hasHeader: true);
        return take == int.MaxValue ? all : ml.Data.TakeRows(all, take);
    }

    public sealed class ScoreRow
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    public sealed class PairRow
    {
        public float[] ImageEmbedding { get; set; } = Array.Empty<float>();

        public float[] TextEmbedding { get; set; } = Array.Empty<float>();

        public static SchemaDefinition Schema(int size)
        {
            var schema = SchemaDefinition.Create(typeof(PairRow));
            schema[nameof(ImageEmbedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            schema[nameof(TextEmbedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            return schema;
        }
    }
}
