using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

public sealed class OnnxImageClassifierTests
{
    private static readonly string s_folder = TestModels.Path("vision");
    private static readonly string s_userModel = Path.Combine(s_folder, "user_classifier.onnx");
    private static readonly float[] s_imageNetMean = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] s_imageNetStd = { 0.229f, 0.224f, 0.225f };

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class Classified
    {
        public string ImagePath { get; set; } = "";

        public float[] Score { get; set; } = Array.Empty<float>();

        public string PredictedClass { get; set; } = "";
    }

    /// <summary>Every committed PNG through every torchvision pipeline of the fixture: the tensors equal PyTorch's within 1e-5.</summary>
    [Fact]
    public void Preprocessing_EqualsTorchvision_OnEveryFixtureImage()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_folder, "preprocess.json")));
        int checkedTensors = 0;
        foreach (var entry in document.RootElement.GetProperty("entries").EnumerateArray())
        {
            var p = entry.GetProperty("params");
            var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var resize = p.GetProperty("resize");
            bool exact = resize.GetProperty("mode").GetString() == "exact";
            float[] Floats(string name, float fallback) => p.GetProperty(name).ValueKind == JsonValueKind.Null
                ? Enumerable.Repeat(fallback, shape[0]).ToArray()
                : p.GetProperty(name).EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var settings = new ImagePreprocessingSettings(shape[2], shape[1], shape[0],
                exact ? ResizeKind.Exact : ResizeKind.ShortestSide, exact ? 0 : resize.GetProperty("size").GetInt32(), !exact,
                1.0 / 255, Floats("mean", 0f), Floats("std", 1f));
            var expected = ReadFloats(Path.Combine(s_folder, entry.GetProperty("bin").GetString()!));

            using var image = MLImage.CreateFromFile(Path.Combine(s_folder, entry.GetProperty("image").GetString()!));
            var actual = new float[expected.Length];
            new ImagePreprocessor(settings).Run(image.Pixels, image.Width, image.Height,
                image.PixelFormat == MLPixelFormat.Bgra32 ? PixelFormat.Bgra : PixelFormat.Rgba, actual);

            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f,
                    $"{entry.GetProperty("pipeline").GetString()} {entry.GetProperty("image").GetString()}: element {i} expected {expected[i]}, got {actual[i]}");
            }

            checkedTensors++;
        }

        Assert.Equal(24, checkedTensors);
    }

    [Fact]
    public void UsersTorchvisionExport_GivenOptionsAlone_MatchesPyTorch()
    {
        var ml = new MLContext(seed: 1);
        var (images, logits, classes) = UserFixture();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = i }));
        var pipeline = ml.Transforms.LoadImages("Image", s_folder, nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ClassifyImageOnnx(UserOptions()))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var model = pipeline.Fit(data);

        var rows = ml.Data.CreateEnumerable<Classified>(model.Transform(data), reuseRowObject: false).ToArray();

        Assert.Equal(images.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var expected = Softmax(logits[i]);
            MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests.AssertClose(expected, rows[i].Score, 1e-4f);
            Assert.Equal(classes[Array.IndexOf(expected, expected.Max())], rows[i].PredictedClass);
        }

        foreach (var t in model)
        {
            (t as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void APathColumn_IsReadDirectly_LikeLoadImages()
    {
        var ml = new MLContext(seed: 1);
        var (images, logits, _) = UserFixture();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = i }));
        var options = UserOptions();
        options.InputColumnName = nameof(ImageRow.ImagePath);
        options.ImageFolder = s_folder;
        using var classifier = ml.Transforms.ClassifyImageOnnx(options).Fit(data);

        var scores = classifier.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

        for (int i = 0; i < images.Length; i++)
        {
            MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests.AssertClose(Softmax(logits[i]), scores[i], 1e-4f);
        }
    }

    [Fact]
    public void ScoreAndPredictedLabel_CarryTheClassNames_AndTopK()
    {
        var ml = new MLContext(seed: 1);
        var (images, logits, classes) = UserFixture();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = i }));
        var options = UserOptions();
        options.TopK = 3;
        var loaded = ml.Transforms.LoadImages("Image", s_folder, nameof(ImageRow.ImagePath)).Fit(data).Transform(data);
        using var classifier = ml.Transforms.ClassifyImageOnnx(options).Fit(loaded);
        var output = classifier.Transform(loaded);

        VBuffer<ReadOnlyMemory<char>> slotNames = default, keyValues = default;
        output.Schema["Score"].GetSlotNames(ref slotNames);
        output.Schema["PredictedLabel"].GetKeyValues(ref keyValues);
        Assert.Equal(classes, slotNames.DenseValues().Select(v => v.ToString()));
        Assert.Equal(classes, keyValues.DenseValues().Select(v => v.ToString()));
        Assert.Equal(classes, classifier.ClassNames);

        var topLabels = output.GetColumn<VBuffer<ReadOnlyMemory<char>>>("TopKLabels").Select(v => v.DenseValues().Select(x => x.ToString()).ToArray()).ToArray();
        var topScores = output.GetColumn<VBuffer<float>>("TopKScores").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int i = 0; i < images.Length; i++)
        {
            var p = Softmax(logits[i]);
            var order = Enumerable.Range(0, p.Length).OrderByDescending(j => p[j]).Take(3).ToArray();
            Assert.Equal(order.Select(j => classes[j]), topLabels[i]);
            MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests.AssertClose(order.Select(j => p[j]).ToArray(), topScores[i], 1e-4f);
        }
    }

    [Fact]
    public void SaveLoadInAFreshContext_GivesIdenticalOutputs_AndPredictionEngineWorks()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var (images, _, _) = UserFixture();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = i }));
        var pipeline = ml.Transforms.LoadImages("Image", s_folder, nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ClassifyImageOnnx(UserOptions()))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var model = pipeline.Fit(data);
        var before = ml.Data.CreateEnumerable<Classified>(model.Transform(data), reuseRowObject: false).ToArray();
        string zip = temp.File("classifier.zip");
        ml.Model.Save(model, data.Schema, zip);

        var fresh = new MLContext(seed: 3);
        var loaded = fresh.Model.Load(zip, out _);
        var after = fresh.Data.CreateEnumerable<Classified>(loaded.Transform(data), reuseRowObject: false).ToArray();
        using var engine = fresh.Model.CreatePredictionEngine<ImageRow, Classified>(loaded);
        var single = engine.Predict(new ImageRow { ImagePath = images[2] });

        for (int i = 0; i < before.Length; i++)
        {
            Assert.Equal(before[i].Score, after[i].Score);
            Assert.Equal(before[i].PredictedClass, after[i].PredictedClass);
        }

        MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests.AssertClose(before[2].Score, single.Score, 1e-6f);
        Assert.Equal(before[2].PredictedClass, single.PredictedClass);
        foreach (var t in (TransformerChain<ITransformer>)loaded)
        {
            (t as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void BrokenImage_NamesTheRowPosition_AndContinueOnError_FlagsAndCounts()
    {
        using var temp = TestModels.TempFolder();
        foreach (string image in new[] { "img0.png", "img5.png" })
        {
            File.Copy(Path.Combine(s_folder, image), temp.File(image));
        }

        File.WriteAllText(temp.File("broken.png"), "this is not a PNG");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { "img0.png", "broken.png", "img5.png" }.Select(i => new ImageRow { ImagePath = i }));
        var loaded = ml.Transforms.LoadImages("Image", temp.FullPath, nameof(ImageRow.ImagePath)).Fit(data).Transform(data);

        using var strict = ml.Transforms.ClassifyImageOnnx(UserOptions()).Fit(loaded);
        var e = Assert.Throws<InvalidOperationException>(() => strict.Transform(loaded).GetColumn<VBuffer<float>>("Score").ToArray());
        Assert.Contains("Could not read the image in column 'Image' at row position 1", e.Message);
        Assert.Contains("the image 'broken.png' (column 'ImagePath') cannot be read", e.Message);

        // Given the path column itself, the classifier reads the files and names the full path.
        var options0 = UserOptions();
        options0.InputColumnName = nameof(ImageRow.ImagePath);
        options0.ImageFolder = temp.FullPath;
        using var fromPaths = ml.Transforms.ClassifyImageOnnx(options0).Fit(data);
        var byPath = Assert.Throws<InvalidOperationException>(() => fromPaths.Transform(data).GetColumn<VBuffer<float>>("Score").ToArray());
        Assert.Contains($"the image file '{temp.File("broken.png")}' cannot be read as an image (17 bytes): ", byPath.Message);

        var options = UserOptions();
        options.ContinueOnError = true;
        using var lenient = ml.Transforms.ClassifyImageOnnx(options).Fit(loaded);
        var output = lenient.Transform(loaded);
        var scores = output.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var flags = output.GetColumn<bool>("ImageError").ToArray();
        var labels = output.GetColumn<uint>("PredictedLabel").ToArray();

        Assert.Equal(new[] { false, true, false }, flags);
        Assert.All(scores[1], v => Assert.True(float.IsNaN(v)));
        Assert.Equal(0u, labels[1]);
        // The good rows score exactly as in a run without the bad row (ONNX Runtime scores the rows of a batch independently).
        var clean = ml.Data.LoadFromEnumerable(new[] { "img0.png", "img5.png" }.Select(i => new ImageRow { ImagePath = i }));
        var cleanLoaded = ml.Transforms.LoadImages("Image", temp.FullPath, nameof(ImageRow.ImagePath)).Fit(clean).Transform(clean);
        var expected = strict.Transform(cleanLoaded).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.Equal(expected[0], scores[0]);
        Assert.Equal(expected[1], scores[2]);
        Assert.Equal(strict.Transform(cleanLoaded).GetColumn<uint>("PredictedLabel").ToArray(), new[] { labels[0], labels[2] });
        Assert.Equal(3, lenient.ErrorCount); // three passes read the bad row (scores, flags, labels): counted as read
        // A job counts one pass by resetting: the reset returns the count so far and starts again from 0.
        Assert.Equal(3, lenient.ResetErrorCount());
        Assert.Equal(0, lenient.ErrorCount);
        Assert.Equal(new[] { false, true, false }, output.GetColumn<bool>("ImageError").ToArray());
        Assert.Equal(1, lenient.ErrorCount);
    }

    [Fact]
    public void PixelVectorOfTheWrongLength_FailsWhenThePipelineIsBuilt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new PixelRow() });
        var options = UserOptions();
        options.InputColumnName = nameof(PixelRow.Pixels);
        options.RawPixelWidth = 10;
        options.RawPixelHeight = 10;
        options.RawPixelChannels = 3;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ClassifyImageOnnx(options).Fit(data));

        Assert.Contains("Schema mismatch for input column 'Pixels'", e.Message);
        Assert.Contains("a pixel vector of 300 values (10 x 10 x 3", e.Message);
        Assert.Contains("(200 values)", e.Message);
    }

    [Fact]
    public void RawPixelBytes_OfAnyDeclaredSize_AreResizedPerTheOptions()
    {
        var ml = new MLContext(seed: 1);
        using var png = MLImage.CreateFromFile(Path.Combine(s_folder, "img3.png")); // 64 x 64 RGB
        var pixels = new byte[64 * 64 * 3];
        var source = png.Pixels;
        bool bgra = png.PixelFormat == MLPixelFormat.Bgra32;
        for (int p = 0; p < 64 * 64; p++)
        {
            pixels[3 * p] = source[(4 * p) + (bgra ? 2 : 0)];
            pixels[(3 * p) + 1] = source[(4 * p) + 1];
            pixels[(3 * p) + 2] = source[(4 * p) + (bgra ? 0 : 2)];
        }

        var options = UserOptions();
        options.InputColumnName = "Pixels";
        options.RawPixelWidth = 64;
        options.RawPixelHeight = 64;
        options.RawPixelChannels = 3;
        var data = ml.Data.LoadFromEnumerable(new[] { new BytePixelRow { Pixels = pixels } });
        using var fromBytes = ml.Transforms.ClassifyImageOnnx(options).Fit(data);
        var score = fromBytes.Transform(data).GetColumn<VBuffer<float>>("Score").Single().DenseValues().ToArray();

        var (_, logits, _) = UserFixture();
        MlNotes.Transforms.Tests.Onnx.OnnxScoringTransformerTests.AssertClose(Softmax(logits[3]), score, 1e-4f);
    }

    [Fact]
    public void MissingImageColumn_NamesIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ImageRow() });

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ClassifyImageOnnx(UserOptions()).Fit(data));

        Assert.Contains("Could not find input column 'Image'", e.Message);
    }

    [Fact]
    public void ClassNamesThatDoNotMatchTheGraph_AreRejected()
    {
        var ml = new MLContext(seed: 1);
        var options = UserOptions();
        options.ClassNames = new[] { "a", "b" };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ClassifyImageOnnx(options));

        Assert.Contains("equal to the 2 class names", e.Message);
    }

    public sealed class PixelRow
    {
        [VectorType(200)]
        public float[] Pixels { get; set; } = new float[200];
    }

    public sealed class BytePixelRow
    {
        [VectorType(64 * 64 * 3)]
        public byte[] Pixels { get; set; } = Array.Empty<byte>();
    }

    internal static OnnxImageClassifierEstimator.Options UserOptions() => new()
    {
        ModelFile = s_userModel,
        ImageWidth = 224,
        ImageHeight = 224,
        ImageChannels = 3,
        Resize = ResizeKind.ShortestSide,
        ResizeSize = 256,
        Mean = s_imageNetMean,
        Std = s_imageNetStd,
        ClassNames = new[] { "cat", "dog", "bird", "fish", "frog" },
        BatchSize = 4,
    };

    private static (string[] Images, float[][] Logits, string[] Classes) UserFixture()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_folder, "user_classifier_fixture.json")));
        var root = document.RootElement;
        var images = root.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var output = root.GetProperty("outputs").GetProperty("output");
        var data = output.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        int classes = data.Length / images.Length;
        var logits = Enumerable.Range(0, images.Length).Select(i => data.Skip(i * classes).Take(classes).ToArray()).ToArray();
        return (images, logits, root.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    internal static float[] Softmax(IReadOnlyList<float> logits)
    {
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }

    private static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
