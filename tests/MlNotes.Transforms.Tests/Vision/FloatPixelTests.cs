using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

/// <summary>
/// Single pixel vectors (fractional 0-255 values) against torchvision's tensor path and PyTorch's logits
/// (TestModels/vision/float_fixtures.json, written by make_float_fixtures.py).
/// </summary>
public sealed class FloatPixelTests
{
    private static readonly string s_folder = TestModels.Path("vision");
    private static readonly Lazy<JsonDocument> s_fixture = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(s_folder, "float_fixtures.json"))));

    /// <summary>Every float fixture (grey and RGB, at the network's size or resized and cropped) within 1e-5 of torchvision's tensor path.</summary>
    [Fact]
    public void FloatPixels_Preprocessing_EqualsTorchvisionsTensorPath()
    {
        int checkedTensors = 0;
        foreach (var entry in s_fixture.Value.RootElement.GetProperty("entries").EnumerateArray())
        {
            var p = entry.GetProperty("params");
            var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var resize = p.GetProperty("resize");
            bool exact = resize[0].GetString() == "exact";
            float[] Floats(string name, float fallback) => p.GetProperty(name).ValueKind == JsonValueKind.Null
                ? Enumerable.Repeat(fallback, shape[0]).ToArray()
                : p.GetProperty(name).EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var settings = new ImagePreprocessingSettings(shape[2], shape[1], shape[0],
                exact ? ResizeKind.Exact : ResizeKind.ShortestSide, exact ? 0 : resize[1].GetInt32(), !exact, 1.0 / 255, Floats("mean", 0f), Floats("std", 1f));
            string sourceName = entry.GetProperty("source").GetString()!;
            var source = s_fixture.Value.RootElement.GetProperty("sources").GetProperty(sourceName);
            var bytes = File.ReadAllBytes(Path.Combine(s_folder, entry.GetProperty("bin").GetString()!));
            var expected = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, expected, 0, bytes.Length);

            var actual = new float[expected.Length];
            new ImagePreprocessor(settings).Run(FloatPixels(sourceName), source.GetProperty("width").GetInt32(), source.GetProperty("height").GetInt32(),
                source.GetProperty("channels").GetInt32() == 1 ? PixelFormat.Grey : PixelFormat.Rgb, actual);

            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f,
                    $"{entry.GetProperty("pipeline").GetString()} {sourceName}: element {i} expected {expected[i]}, got {actual[i]}");
            }

            checkedTensors++;
        }

        // Measured: at most 6.0e-7 over the 15 tensors (float32 rounding of sums ATen orders differently); 1e-5 leaves a 16x margin.
        Assert.Equal(15, checkedTensors);
    }

    [Theory]
    [InlineData("vit", 0)] // 4 grey 28 x 28: the network's size, no resize
    [InlineData("vit", 1)] // 3 RGB 40 x 40: torchvision's grey weights, then resized to 28 x 28
    [InlineData("user", 0)] // 3 RGB 64 x 64: shortest side to 256, center crop 224, ImageNet normalization
    public void FractionalFloatPixels_GiveThePyTorchLogits(string graph, int batch)
    {
        var (ml, data, classifier, expected) = Classify(graph, batch, nanRow: -1);
        using var _ = classifier;

        var scores = Scores(classifier.Transform(data));

        // Softmax loses the logits' common offset only: log p_i - mean_j log p_j = logit_i - mean_j logit_j.
        double worst = 0;
        for (int r = 0; r < expected.Length; r++)
        {
            var logp = scores[r].Select(p => Math.Log(p)).ToArray();
            double actualMean = logp.Average(), expectedMean = expected[r].Average(v => (double)v);
            worst = Math.Max(worst, logp.Select((v, i) => Math.Abs(v - actualMean - (expected[r][i] - expectedMean))).Max());
        }

        // Measured: 1.3e-6 (vit 0), 1.3e-6 (vit 1), 2.4e-6 (user), 40x under 1e-4; the old code (pixels rounded to bytes, then
        // Pillow's byte path) was off by 1.3e-2, 4.6e-3 and 3.3e-3.
        Assert.True(worst <= 1e-4, $"{graph} batch {batch}: centred logits differ from PyTorch's by {worst:G3}");
        for (int r = 0; r < expected.Length; r++)
        {
            Onnx.OnnxScoringTransformerTests.AssertClose(OnnxImageClassifierTests.Softmax(expected[r]), scores[r], 1e-4f);
        }
    }

    [Theory]
    [InlineData("vit", 0)]
    [InlineData("vit", 1)]
    [InlineData("user", 0)]
    public void ANaNPixel_GivesNaNScores_AndAMissingLabel_TheOtherRowsAsWithoutIt(string graph, int batch)
    {
        var (ml, data, classifier, _) = Classify(graph, batch, nanRow: 1);
        using var _ = classifier;

        var output = classifier.Transform(data);
        var scores = Scores(output);
        var labels = output.GetColumn<uint>("PredictedLabel").ToArray();

        Assert.All(scores[1], v => Assert.True(float.IsNaN(v), $"score {v}"));
        Assert.Equal(0u, labels[1]);
        var rows = ml.Data.CreateEnumerable<FloatRow>(data, reuseRowObject: false).Where((_, i) => i != 1).ToArray();
        var clean = ml.Data.LoadFromEnumerable(rows, Schema(rows[0].Pixels.Length));
        var cleanOutput = classifier.Transform(clean);
        var cleanScores = Scores(cleanOutput);
        var cleanLabels = cleanOutput.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(cleanScores, scores.Where((_, i) => i != 1));
        Assert.Equal(cleanLabels, labels.Where((_, i) => i != 1));
        Assert.All(cleanLabels, l => Assert.NotEqual(0u, l));
    }

    /// <summary>
    /// The CLIP image tower reads Single pixels through the same float path: whole-number pixels at the network's size embed
    /// exactly as the same bytes do, and a NaN pixel gives a NaN embedding for its row alone.
    /// </summary>
    [Fact]
    public void ClipImageEncoder_FloatPixels_EqualTheBytePath_AndANaNPixelGivesNaN()
    {
        var ml = new MLContext(seed: 1);
        var bytes = new[] { "fashion0", "fashion1" }.Select(n => FloatPixels(n).Select(v => (byte)MathF.Floor(v)).ToArray()).ToArray();
        var floatRows = bytes.Select(b => new FloatRow { Pixels = b.Select(v => (float)v).ToArray() }).ToArray();
        floatRows[1].Pixels[400] = float.NaN;
        var floatData = ml.Data.LoadFromEnumerable(floatRows, Schema(28 * 28));
        var byteData = ml.Data.LoadFromEnumerable(bytes.Select(b => new ByteRow { Pixels = b }));
        OnnxImageEncoderTransformer Encoder(IDataView data) => ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = RepoPaths.Model("clip-fashion-image.onnx"),
            InputColumnName = nameof(FloatRow.Pixels),
            RawPixelChannels = 1,
        }).Fit(data);
        using var fromFloats = Encoder(floatData);
        using var fromBytes = Encoder(byteData);

        var a = fromFloats.Transform(floatData).GetColumn<VBuffer<float>>("ImageEmbedding").Select(v => v.DenseValues().ToArray()).ToArray();
        var b = fromBytes.Transform(byteData).GetColumn<VBuffer<float>>("ImageEmbedding").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(b[0], a[0]);
        Assert.All(b[1], v => Assert.True(float.IsFinite(v)));
        Assert.All(a[1], v => Assert.True(float.IsNaN(v), $"embedding value {v}"));
    }

    /// <summary>A classifier over one fixture batch given as a Single vector column (row <paramref name="nanRow"/> with a NaN pixel), and PyTorch's logits.</summary>
    private static (MLContext Ml, IDataView Data, OnnxImageClassifierTransformer Classifier, float[][] Logits) Classify(string graph, int batch, int nanRow)
    {
        var root = s_fixture.Value.RootElement;
        var block = root.GetProperty(graph).GetProperty("batches")[batch];
        var names = block.GetProperty("sources").EnumerateArray().Select(e => e.GetString()!).ToArray();
        int width = block.GetProperty("width").GetInt32(), height = block.GetProperty("height").GetInt32(), channels = block.GetProperty("channels").GetInt32();
        var rows = names.Select(n => new FloatRow { Pixels = FloatPixels(n) }).ToArray();
        if (nanRow >= 0)
        {
            rows[nanRow].Pixels[(width * channels * (height / 2)) + (channels * (width / 3))] = float.NaN;
        }

        var logits = block.GetProperty("logits").GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        int classes = logits.Length / names.Length;
        var expected = Enumerable.Range(0, names.Length).Select(r => logits.Skip(r * classes).Take(classes).ToArray()).ToArray();

        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows, Schema(width * height * channels));
        var options = graph == "vit"
            ? new OnnxImageClassifierEstimator.Options { ModelFile = RepoPaths.Model("vit-fashion.onnx") }
            : OnnxImageClassifierTests.UserOptions();
        options.InputColumnName = nameof(FloatRow.Pixels);
        options.RawPixelWidth = width;
        options.RawPixelHeight = height;
        options.RawPixelChannels = channels;
        return (ml, data, ml.Transforms.ClassifyImageOnnx(options).Fit(data), expected);
    }

    /// <summary>The fixture's float pixels (HWC): v = 0.75 png[y, x, c] + ((7 x + 13 y + 5 c) mod 17) / 16, exact in float32.</summary>
    internal static float[] FloatPixels(string source)
    {
        var s = s_fixture.Value.RootElement.GetProperty("sources").GetProperty(source);
        int width = s.GetProperty("width").GetInt32(), height = s.GetProperty("height").GetInt32(), channels = s.GetProperty("channels").GetInt32();
        var box = s.GetProperty("box");
        int left = box.ValueKind == JsonValueKind.Null ? 0 : box[0].GetInt32(), top = box.ValueKind == JsonValueKind.Null ? 0 : box[1].GetInt32();
        using var image = MLImage.CreateFromFile(Path.Combine(RepoPaths.Root, s.GetProperty("png").GetString()!));
        var png = image.Pixels;
        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        var values = new float[width * height * channels];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int p = 4 * (((y + top) * image.Width) + x + left);
                for (int c = 0; c < channels; c++)
                {
                    // A grey PNG decodes to R = G = B; an RGB one is read per channel.
                    int offset = channels == 1 ? 1 : bgra ? 2 - c : c;
                    values[(((y * width) + x) * channels) + c] = (0.75f * png[p + offset]) + ((((7 * x) + (13 * y) + (5 * c)) % 17) / 16f);
                }
            }
        }

        return values;
    }

    private static float[][] Scores(IDataView output) => output.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

    private static SchemaDefinition Schema(int size)
    {
        var schema = SchemaDefinition.Create(typeof(FloatRow));
        schema[nameof(FloatRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return schema;
    }

    public sealed class FloatRow
    {
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    public sealed class ByteRow
    {
        [VectorType(28 * 28)]
        public byte[] Pixels { get; set; } = Array.Empty<byte>();
    }
}
