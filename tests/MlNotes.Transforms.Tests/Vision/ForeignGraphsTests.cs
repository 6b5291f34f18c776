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
/// Users' graphs with options only (TestModels/foreign, written by make_foreign_fixtures.py): Pillow's three resize filters bit for
/// bit, random-weight torchvision exports (resnet50, mobilenet_v3_small, efficientnet_b0, convnext_tiny, vit_b_16, slimmed) within
/// 1e-4 of PyTorch, an ONNX-zoo NHWC/BGR/0-255 graph, graphs with a fixed batch of 1 and of 3.
/// </summary>
public sealed class ForeignGraphsTests
{
    private static readonly string s_folder = TestModels.Path("foreign");
    private static readonly Lazy<JsonDocument> s_fixtures = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(s_folder, "fixtures.json"))));
    private static readonly float[] s_mean = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] s_std = { 0.229f, 0.224f, 0.225f };
    private static readonly float[] s_caffeMean = { 103.939f, 116.779f, 123.68f };

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    private static JsonElement Root => s_fixtures.Value.RootElement;

    private static string ImageFile(string name) => name.StartsWith("img", StringComparison.Ordinal)
        ? Path.Combine(TestModels.Path("vision"), name)
        : Path.Combine(s_folder, name);

    private static IDataView Images(MLContext ml)
        => ml.Data.LoadFromEnumerable(Root.GetProperty("images").EnumerateArray().Select(e => new ImageRow { ImagePath = ImageFile(e.GetString()!) }).ToArray());

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static float[][] Column(IDataView view, string name)
        => view.GetColumn<VBuffer<float>>(name).Select(v => v.DenseValues().ToArray()).ToArray();

    /// <summary>The largest difference between the rows and the reference (flat, row-major).</summary>
    private static double MaxGap(float[][] rows, float[] expected)
    {
        Assert.Equal(expected.Length, rows.Sum(r => r.Length));
        var flat = rows.SelectMany(r => r).ToArray();
        return flat.Zip(expected, (a, b) => (double)Math.Abs(a - b)).Max();
    }

    /// <summary>
    /// Pillow's convert("RGB") and resize with BILINEAR, BICUBIC and NEAREST (down to 37 x 23, up to 97 x 73, and torchvision's
    /// Resize(48) + CenterCrop(40)) on a photo, two fashion-MNIST photos (grey), a synthetic image with hard edges and an RGBA image
    /// with partial transparency: every byte equal (read back as 0-255 floats in NHWC, the values pass through unchanged).
    /// </summary>
    [Fact]
    public void Resize_EqualsPillow_BitForBit_ForEveryFilter()
    {
        byte[] blob = File.ReadAllBytes(Path.Combine(s_folder, "resized.bin"));
        int checkedImages = 0;
        foreach (var entry in Root.GetProperty("resized").EnumerateArray())
        {
            int width = entry.GetProperty("width").GetInt32(), height = entry.GetProperty("height").GetInt32();
            bool shortest = entry.TryGetProperty("shortest", out var size);
            var filter = Enum.Parse<ResizeInterpolation>(entry.GetProperty("filter").GetString()!, ignoreCase: true);
            var settings = new ImagePreprocessingSettings(width, height, 3, shortest ? ResizeKind.ShortestSide : ResizeKind.Exact,
                shortest ? size.GetInt32() : 0, shortest, 1.0, new float[3], new[] { 1f, 1f, 1f })
            { Layout = ImageLayout.Nhwc, Interpolation = filter };
            // The decoding MlNotes runs on paths and encoded bytes (straight alpha, as Pillow keeps it).
            var image = ImageInput.Decode(File.ReadAllBytes(ImageFile(entry.GetProperty("image").GetString()!)));
            var actual = new float[width * height * 3];
            new ImagePreprocessor(settings).Run(image.Pixels.Span, image.Width, image.Height, image.Format, actual);

            var expected = blob.AsSpan(entry.GetProperty("offset").GetInt32(), actual.Length);
            for (int i = 0; i < actual.Length; i++)
            {
                Assert.True(actual[i] == expected[i], $"{entry}: value {i} is {actual[i]}, Pillow {expected[i]}");
            }

            checkedImages++;
        }

        Assert.Equal(5 * 3 * 3, checkedImages);
    }

    /// <summary>BGR order and the NHWC layout move values only: the same floats as RGB NCHW, each at its new place.</summary>
    [Fact]
    public void BgrAndNhwc_MoveTheValues_OfRgbNchw()
    {
        using var image = MLImage.CreateFromFile(ImageFile("photo.png"));
        var rgb = new ImagePreprocessingSettings(40, 30, 3, ResizeKind.Exact, 0, false, 1.0 / 255, s_mean, s_std);
        var bgr = rgb with { Layout = ImageLayout.Nhwc, ChannelOrder = ChannelOrder.Bgr, Mean = s_mean.Reverse().ToArray(), Std = s_std.Reverse().ToArray() };
        var a = new float[3 * 30 * 40];
        var b = new float[a.Length];
        var format = image.PixelFormat == MLPixelFormat.Bgra32 ? PixelFormat.Bgra : PixelFormat.Rgba;
        new ImagePreprocessor(rgb).Run(image.Pixels, image.Width, image.Height, format, a);
        new ImagePreprocessor(bgr).Run(image.Pixels, image.Width, image.Height, format, b);

        for (int c = 0; c < 3; c++)
        {
            for (int p = 0; p < 30 * 40; p++)
            {
                Assert.Equal(a[(c * 1200) + p], b[(p * 3) + (2 - c)]);
            }
        }
    }

    /// <summary>
    /// Five torchvision architectures (random weights, slimmed: make_foreign_fixtures.py) through ClassifyImageOnnx with options
    /// only: torchvision's Resize(72, filter), CenterCrop(64), ToTensor, Normalize(ImageNet). The Logits column and, where the graph
    /// has one, the embedding ([N, 128, 1, 1] flattened; ViT tokens [N, 17, 32] pooled to the class token) equal PyTorch's.
    /// </summary>
    [Theory]
    [InlineData("resnet50_slim", "features", null)]
    [InlineData("mobilenet_v3_small_slim", null, null)]
    [InlineData("efficientnet_b0_slim", null, null)]
    [InlineData("convnext_tiny_slim", null, null)]
    [InlineData("vit_b_16_slim", "tokens", TokenPooling.ClassToken)]
    public void TorchvisionExports_MatchPyTorch_WithOptionsOnly(string graph, string? embedding, TokenPooling? pooling)
    {
        var g = Root.GetProperty("graphs").GetProperty(graph);
        var ml = new MLContext(seed: 1);
        var options = new OnnxImageClassifierEstimator.Options
        {
            ModelFile = Path.Combine(s_folder, graph + ".onnx"),
            InputColumnName = nameof(ImageRow.ImagePath),
            Resize = ResizeKind.ShortestSide,
            ResizeSize = 72,
            Interpolation = Enum.Parse<ResizeInterpolation>(g.GetProperty("interpolation").GetString()!, ignoreCase: true),
            Mean = s_mean,
            Std = s_std,
            LogitsTensorName = "logits",
            LogitsColumnName = "Logits",
            EmbeddingTensorName = embedding,
            TokenPooling = pooling,
            BatchSize = 2,
        };
        var data = Images(ml);
        using var model = ml.Transforms.ClassifyImageOnnx(options).Fit(data);
        var output = model.Transform(data);

        // Measured: 2.3e-5 on resnet50 (logits up to 39), at most 1.1e-6 on the others (up to 2.4); 1e-4 is the float32 bound.
        double gap = MaxGap(Column(output, "Logits"), Floats(g.GetProperty("outputs").GetProperty("logits").GetProperty("data")));
        Assert.True(gap < 1e-4, $"logits gap {gap}");
        if (embedding == "features")
        {
            Assert.True(MaxGap(Column(output, "Embedding"), Floats(g.GetProperty("outputs").GetProperty("features").GetProperty("data"))) < 1e-4);
        }
        else if (embedding == "tokens")
        {
            Assert.True(MaxGap(Column(output, "Embedding"), Floats(g.GetProperty("pooled").GetProperty("ClassToken"))) < 1e-4);
        }

        var scores = Column(output, "Score");
        var logits = Column(output, "Logits");
        var softmax = new float[scores[0].Length];
        MlNotes.Transforms.Onnx.ClassificationOutputs.Softmax(logits[0], softmax);
        Assert.Equal(softmax, scores[0]);
    }

    /// <summary>A ViT's tokens [N, 17, 32] through EncodeClipImage: each pooling equals PyTorch's on the same tokens.</summary>
    [Theory]
    [InlineData(TokenPooling.ClassToken)]
    [InlineData(TokenPooling.Mean)]
    [InlineData(TokenPooling.PatchMean)]
    public void VitTokens_ArePooledAsAsked(TokenPooling pooling)
    {
        var g = Root.GetProperty("graphs").GetProperty("vit_b_16_slim");
        var ml = new MLContext(seed: 1);
        var data = Images(ml);
        using var model = ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = Path.Combine(s_folder, "vit_b_16_slim.onnx"),
            InputColumnName = nameof(ImageRow.ImagePath),
            Resize = ResizeKind.ShortestSide,
            ResizeSize = 72,
            Interpolation = ResizeInterpolation.Bicubic,
            Mean = s_mean,
            Std = s_std,
            EmbeddingTensorName = "tokens",
            TokenPooling = pooling,
            Normalize = false,
        }).Fit(data);

        Assert.Equal(32, model.EmbeddingSize);
        // Measured: at most 1.5e-6 (the means sum 16 or 17 tokens in another order than torch).
        Assert.True(MaxGap(Column(model.Transform(data), "ImageEmbedding"), Floats(g.GetProperty("pooled").GetProperty(pooling.ToString()))) < 1e-4);
    }

    /// <summary>A token output without a pooling is refused when the pipeline is built, naming the tensor, its shape and the option.</summary>
    [Fact]
    public void VitTokens_WithoutPooling_AreRefusedNamingTheOption()
    {
        var ml = new MLContext(seed: 1);
        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = Path.Combine(s_folder, "vit_b_16_slim.onnx"),
            EmbeddingTensorName = "tokens",
        }));
        Assert.Contains("'tokens'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[-1, 17, 32]", e.Message, StringComparison.Ordinal);
        Assert.Contains("TokenPooling", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// An ONNX-zoo style graph (NHWC input, BGR, 0-255 minus the Caffe means, resize to 64 x 64), and the same network exported with
    /// its batch axis fixed to 1 and to 3: options only, 5 images at the default BatchSize (the fixed-3 graph pads its last run), and
    /// through a PredictionEngine (one row padded to the fixed batch). The layout is read from the graph.
    /// </summary>
    [Theory]
    [InlineData("zoo_nhwc_bgr")]
    [InlineData("fixed_batch1")]
    [InlineData("fixed_batch3")]
    public void ZooAndFixedBatchGraphs_MatchPyTorch(string graph)
    {
        var expected = Floats(Root.GetProperty("graphs").GetProperty(graph).GetProperty("outputs").GetProperty("prob").GetProperty("data"));
        var ml = new MLContext(seed: 1);
        var data = Images(ml);
        using var model = ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = Path.Combine(s_folder, graph + ".onnx"),
            InputColumnName = nameof(ImageRow.ImagePath),
            Resize = ResizeKind.Exact,
            ChannelOrder = ChannelOrder.Bgr,
            PixelRange = PixelRange.ZeroTo255,
            Mean = s_caffeMean,
            Std = new[] { 1f, 1f, 1f },
            LogitsColumnName = "Logits",
        }).Fit(data);

        Assert.Equal(ImageLayout.Nhwc, model.Config.Preprocessing.Layout);
        // Measured: 1.8e-7 on each of the three.
        double gap = MaxGap(Column(model.Transform(data), "Logits"), expected);
        Assert.True(gap < 1e-4, $"gap {gap}");

        using var engine = ml.Model.CreatePredictionEngine<ImageRow, LogitsRow>(model);
        var row = engine.Predict(new ImageRow { ImagePath = ImageFile("alpha.png") });
        Assert.True(row.Logits.Zip(expected.Skip(6).Take(6), (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }

    public sealed class LogitsRow
    {
        public float[] Logits { get; set; } = Array.Empty<float>();
    }
}
