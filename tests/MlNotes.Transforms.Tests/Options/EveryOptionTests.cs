using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Text;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;
using Xunit;
using static MlNotes.Transforms.Tests.Options.OptionRows;

namespace MlNotes.Transforms.Tests.Options;

/// <summary>
/// Every public settable option of every public options type has a case here that shows it is honoured: changing it from the
/// fixture's setting changes the added columns, raises the documented exception naming it, or has its documented effect (run
/// counts, session settings). A new option without a case fails <see cref="EveryOption_HasACase"/>.
/// </summary>
public sealed partial class EveryOptionTests
{
    private static readonly string s_vision = TestModels.Path("vision");
    private static readonly string s_text = TestModels.Path("text");
    private static readonly string s_vae = TestModels.Path("vae");
    private static readonly byte[] s_garbage = { 1, 2, 3, 4 };

    /// <summary>The start of the message for <see cref="s_garbage"/> given as a model.</summary>
    private const string NotOnnx = "Could not load the ONNX model (given as 4 bytes in ";


    /// <summary>Options that, changed as their case changes them, change nothing observable: each case asserts the outputs stay the same, so fixing one fails its case until it leaves this list.</summary>
    private static readonly HashSet<string> s_knownIgnored = new(StringComparer.Ordinal)
    {
    };

    private static readonly Lazy<Dictionary<string, OptionCase>> s_cases = new(() => BuildCases().ToDictionary(c => c.Key, StringComparer.Ordinal));

    public static IEnumerable<object[]> Keys => s_cases.Value.Keys.Order(StringComparer.Ordinal).Select(k => new object[] { k });

    [Fact]
    public void EveryOption_HasACase()
    {
        var options = typeof(OnnxModelOptions).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.IsNested && t.Name == "Options")
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true)
                .Select(p => $"{t.DeclaringType!.Name}.{t.Name}.{p.Name}"))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(21, options.Select(k => k.Split('.')[0]).Distinct().Count()); // the 21 nested Options of PublicApi.Transforms.txt
        var missing = options.Except(s_cases.Value.Keys).Order(StringComparer.Ordinal).ToArray();
        var extra = s_cases.Value.Keys.Except(options).Order(StringComparer.Ordinal).ToArray();
        Assert.True(missing.Length == 0, "Options without a case: " + string.Join(", ", missing));
        Assert.True(extra.Length == 0, "Cases without an option: " + string.Join(", ", extra));
        Assert.Subset(options, s_knownIgnored);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Option_IsHonoured(string key)
    {
        var test = s_cases.Value[key].Test;
        if (!s_knownIgnored.Contains(key))
        {
            test();
            return;
        }

        // Known to be ignored: its case must still fail, by the outputs staying the same (not by an error of the fixture).
        var e = Record.Exception(test);
        Assert.True(e is Xunit.Sdk.XunitException, $"{key} is listed as ignored but its case {(e == null ? "passes: remove it from s_knownIgnored" : "fails otherwise: " + e)}.");
    }

    private static List<OptionCase> BuildCases()
    {
        var cases = new List<OptionCase>();
        Scoring(cases);
        Images(cases);
        Text(cases);
        Vae(cases);
        VqVae(cases);
        Gan(cases);
        Cvae(cases);
        Clip(cases);
        Generation(cases);
        return cases;
    }

    private static byte[] Bytes(string path) => File.ReadAllBytes(path);

    /// <summary>The OnnxModelOptions cases, on any ONNX family: <paramref name="model"/> is the file the fixture's ModelBytes hold.</summary>
    private static void Execution<T>(CaseList<T> c, string model, bool sessions = true)
        where T : OnnxModelOptions
    {
        Assert.False(OnnxSessionFactory.IsAvailable(OnnxExecutionProvider.DirectMl)); // the provider no Linux build has
        c.Throws<ArgumentOutOfRangeException>(nameof(OnnxModelOptions.ModelFile), o => o.ModelFile = model);
        c.Custom(nameof(OnnxModelOptions.ModelBytes), () =>
        {
            var fromBytes = c.Family.Run();
            var fromFile = c.Family.Run(change: o => (o.ModelBytes, o.ModelFile) = (null, model));
            Assert.Equal(fromBytes.Signature, fromFile.Signature);
            // Bytes that are no ONNX graph: OnnxSessionFactory raises InvalidOperationException naming the model by its size.
            var e = Assert.ThrowsAny<Exception>(() => c.Family.Run(change: o => o.ModelBytes = s_garbage));
            Assert.IsType<InvalidOperationException>(e);
            Assert.Contains(NotOnnx + "ModelBytes)", e.Message, StringComparison.Ordinal);
        });
        c.Throws<NotSupportedException>(nameof(OnnxModelOptions.ExecutionProvider), o => o.ExecutionProvider = OnnxExecutionProvider.DirectMl, "DirectMl");
        c.Throws<ArgumentOutOfRangeException>(nameof(OnnxModelOptions.GpuDeviceId), o => o.GpuDeviceId = -1);
        if (sessions)
        {
            c.Compare(nameof(OnnxModelOptions.FallbackToCpu), o => o.FallbackToCpu = true, (before, after) =>
            {
                Assert.Equal(before.Signature, after.Signature);
                Assert.Equal(OnnxExecutionProvider.Cpu, ((OnnxTransformerBase)after.Model).ExecutionProvider);
                Assert.All(after.Sessions, s => Assert.True(s.Settings.FallbackToCpu));
            }, setup: o => o.ExecutionProvider = OnnxExecutionProvider.Cpu);
            c.Compare(nameof(OnnxModelOptions.IntraOpNumThreads), o => o.IntraOpNumThreads = 2, (before, after) =>
            {
                Assert.Equal(before.Signature, after.Signature);
                Assert.NotEmpty(after.Sessions);
                Assert.All(before.Sessions, s => Assert.Equal(0, s.Settings.IntraOpNumThreads));
                Assert.All(after.Sessions, s => Assert.Equal(2, s.Settings.IntraOpNumThreads));
            });
            c.Compare(nameof(OnnxModelOptions.InterOpNumThreads), o => o.InterOpNumThreads = 3, (before, after) =>
            {
                Assert.Equal(before.Signature, after.Signature);
                Assert.All(before.Sessions, s => Assert.Equal(0, s.Settings.InterOpNumThreads));
                Assert.All(after.Sessions, s => Assert.Equal(3, s.Settings.InterOpNumThreads));
            });
        }
        else
        {
            // The sessions live only inside Fit: what is observable is that an unavailable provider fits with the fallback, and bad thread counts raise.
            c.Custom(nameof(OnnxModelOptions.FallbackToCpu), () =>
            {
                Assert.Throws<NotSupportedException>(() => c.Family.Run(change: o => o.ExecutionProvider = OnnxExecutionProvider.DirectMl));
                Assert.Equal(c.Family.Run().Signature, c.Family.Run(change: o => (o.ExecutionProvider, o.FallbackToCpu) = (OnnxExecutionProvider.DirectMl, true)).Signature);
            });
            c.Throws<ArgumentOutOfRangeException>(nameof(OnnxModelOptions.IntraOpNumThreads), o => o.IntraOpNumThreads = -1);
            c.Throws<ArgumentOutOfRangeException>(nameof(OnnxModelOptions.InterOpNumThreads), o => o.InterOpNumThreads = -1);
        }
    }

    /// <summary>Same outputs, more ONNX Runtime runs.</summary>
    private static void MoreRuns(Outcome before, Outcome after)
    {
        Assert.Equal(before.Signature, after.Signature);
        Assert.True(after.RunCount > before.RunCount, $"runs: {before.RunCount} before, {after.RunCount} after");
    }

    private static void Scoring(List<OptionCase> cases)
    {
        var (a, b, cc, d, m) = (Input("a"), Input("b"), Input("c"), Input("d"), Input("m"));
        var rows = Enumerable.Range(0, 3).Select(i => new ScoringRow
        {
            a = a.FloatRow(i),
            Alt = a.FloatRow(2 - i),
            b = b.Row(i).ToArray(),
            c = cc.Row(i).Select(v => (int)v).ToArray(),
            d = d.Row(i).Select(v => (long)v).ToArray(),
            m = m.Row(i).Select(v => v != 0).ToArray(),
        }).ToArray();
        var family = new Family<OnnxScoringEstimator.Options>(
            () => new() { ModelBytes = Bytes(TestModels.MultiIo), InputTensorNames = new[] { "a", "b", "c", "d", "m" } },
            ml => ml.Data.LoadFromEnumerable(rows),
            (ml, o, data) => ml.Transforms.ApplyOnnxModelBatched(o).Fit(data));
        var c = new CaseList<OnnxScoringEstimator.Options>(family, cases);
        Execution(c, TestModels.MultiIo);
        c.Differs(nameof(OnnxScoringEstimator.Options.InputColumnNames), o => o.InputColumnNames = new[] { "Alt", "b", "c", "d", "m" });
        c.Throws<ArgumentOutOfRangeException>(nameof(OnnxScoringEstimator.Options.InputTensorNames), o => o.InputTensorNames = new[] { "a", "b", "c", "d" });
        // Without OutputTensorNames the column names are taken as the tensor names (OnnxBindings.Bind): rename against the given tensors.
        c.Differs(nameof(OnnxScoringEstimator.Options.OutputColumnNames), o => o.OutputColumnNames = new[] { "F", "G", "H", "S", "P" }, setup: o => o.OutputTensorNames = new[] { "f", "g", "h", "s", "p" });
        c.Differs(nameof(OnnxScoringEstimator.Options.OutputTensorNames), o => o.OutputTensorNames = new[] { "f" });
        c.Compare(nameof(OnnxScoringEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        static TestModels.Tensor Input(string name) => TestModels.Input("multi_io.onnx", name);
    }

    private static readonly PathRow[] s_imageRows =
    {
        new() { ImagePath = "img0.png", Alt = "img2.png" },
        new() { ImagePath = "img5.png", Alt = "img0.png" },
        new() { ImagePath = "img2.png", Alt = "img5.png" },
        new() { ImagePath = "no-such-image.png", Alt = "img0.png" },
    };

    private static void ImageSetup(OnnxImageModelOptions o)
    {
        o.ModelBytes = Bytes(Path.Combine(s_vision, "user_classifier.onnx"));
        o.InputColumnName = nameof(PathRow.ImagePath);
        o.ImageFolder = s_vision;
        (o.ImageWidth, o.ImageHeight, o.ImageChannels) = (224, 224, 3);
        (o.Resize, o.ResizeSize) = (ResizeKind.ShortestSide, 256);
        (o.Mean, o.Std) = (new[] { 0.485f, 0.456f, 0.406f }, new[] { 0.229f, 0.224f, 0.225f });
        o.ContinueOnError = true;
    }

    /// <summary>Names the fixture graph's only output as the classifier's embedding (the encoder's is that output already).</summary>
    private static void EmbeddingOutput(OnnxImageModelOptions o)
    {
        if (o is OnnxImageClassifierEstimator.Options classifier)
        {
            classifier.EmbeddingTensorName = "output";
        }
    }

    /// <summary>The OnnxImageModelOptions cases (the image is read from a path under ImageFolder; raw pixel options with a pixel column).</summary>
    private static void ImageOptions<T>(CaseList<T> c)
        where T : OnnxImageModelOptions
    {
        Execution(c, Path.Combine(s_vision, "user_classifier.onnx"));
        c.Throws<NotSupportedException>(nameof(OnnxImageModelOptions.ManifestFile), o => o.ManifestFile = Path.Combine(s_vae, "tiny_vae_encoder.json"), "tiny_vae_encoder.json");
        c.Differs(nameof(OnnxImageModelOptions.InputColumnName), o => o.InputColumnName = nameof(PathRow.Alt));
        c.Differs(nameof(OnnxImageModelOptions.ImageFolder), o => o.ImageFolder = s_text);
        c.Custom(nameof(OnnxImageModelOptions.ImagePathColumnName), () => ImagePathColumn(c.Family));
        c.Throws<InvalidOperationException>(nameof(OnnxImageModelOptions.ContinueOnError), o => o.ContinueOnError = false, "no-such-image.png");
        c.Differs(nameof(OnnxImageModelOptions.ErrorColumnName), o => o.ErrorColumnName = "Broken");
        c.Throws<ArgumentOutOfRangeException>(nameof(OnnxImageModelOptions.ImageTensorName), o => o.ImageTensorName = "nope");
        // The fixture's graph fixes 224 x 224: another size is refused against the graph (ImageInput.ResolvePreprocessing).
        c.Throws<InvalidOperationException>(nameof(OnnxImageModelOptions.ImageWidth), o => o.ImageWidth = 192);
        c.Throws<InvalidOperationException>(nameof(OnnxImageModelOptions.ImageHeight), o => o.ImageHeight = 192);
        c.Throws<InvalidOperationException>(nameof(OnnxImageModelOptions.ImageChannels), o => (o.ImageChannels, o.Mean, o.Std) = (1, new[] { 0.5f }, new[] { 0.5f }));
        c.Differs(nameof(OnnxImageModelOptions.Resize), o => o.Resize = ResizeKind.Exact);
        c.Differs(nameof(OnnxImageModelOptions.ResizeSize), o => o.ResizeSize = 300);
        c.Differs(nameof(OnnxImageModelOptions.Mean), o => o.Mean = new[] { 0.5f, 0.5f, 0.5f });
        c.Differs(nameof(OnnxImageModelOptions.Std), o => o.Std = new[] { 0.5f, 0.5f, 0.5f });
        c.Differs(nameof(OnnxImageModelOptions.Interpolation), o => o.Interpolation = ResizeInterpolation.Bicubic);
        c.Differs(nameof(OnnxImageModelOptions.PixelRange), o => o.PixelRange = PixelRange.MinusOneToOne);
        c.Differs(nameof(OnnxImageModelOptions.Scale), o => o.Scale = 1.0 / 128);
        c.Differs(nameof(OnnxImageModelOptions.Offset), o => o.Offset = -0.5);
        c.Differs(nameof(OnnxImageModelOptions.MeanImage), o => o.MeanImage = Enumerable.Range(0, 3 * 224 * 224).Select(i => (i % 7) * 0.01f).ToArray());
        c.Differs(nameof(OnnxImageModelOptions.ChannelOrder), o => o.ChannelOrder = ChannelOrder.Bgr);
        // The fixture's graph takes [batch, 3, 224, 224]: NHWC reads it as 3 x 224 images of 224 channels, refused against the graph.
        c.Throws<InvalidOperationException>(nameof(OnnxImageModelOptions.Layout), o => o.Layout = ImageLayout.Nhwc, "HWC");
        // Its embedding is [batch, 5]: no tokens to pool, refused naming the option.
        c.Throws<InvalidOperationException>(nameof(OnnxImageModelOptions.TokenPooling), o => o.TokenPooling = TokenPooling.Mean, "TokenPooling", setup: EmbeddingOutput);
        c.Custom(nameof(OnnxImageModelOptions.RawPixelWidth), () => RawPixelSize(c.Family, o => o.RawPixelWidth = 8, o => (o.RawPixelWidth, o.RawPixelHeight) = (8, 32), "16 x 8 x 3"));
        c.Custom(nameof(OnnxImageModelOptions.RawPixelHeight), () => RawPixelSize(c.Family, o => o.RawPixelHeight = 8, o => (o.RawPixelWidth, o.RawPixelHeight) = (32, 8), "8 x 16 x 3"));
        c.Throws<ArgumentOutOfRangeException>(nameof(OnnxImageModelOptions.RawPixelChannels), o => o.RawPixelChannels = 2);
        c.Compare(nameof(OnnxImageModelOptions.BatchSize), o => o.BatchSize = 1, MoreRuns);
    }

    /// <summary>16 x 16 RGB float pixel vectors (HWC), in Image and, another order, in Alt.</summary>
    private static IDataView RawPixels(MLContext ml)
    {
        var images = OptionRows.Random(3, 16 * 16 * 3, seed: 19, scale: 255);
        var rows = images.Select((image, i) => new PixelRow { Image = image, Alt = images[2 - i], Noise = new float[4] }).ToArray();
        return Load(ml, rows, (nameof(PixelRow.Image), 16 * 16 * 3), (nameof(PixelRow.Alt), 16 * 16 * 3), (nameof(PixelRow.Noise), 4));
    }

    /// <summary>
    /// A raw pixel size option on 16 x 16 x 3 vectors: changed alone, the vector no longer has its size (the schema check names the
    /// size it expects, <paramref name="expected"/>, H x W x C); changed with the other side so the size still fits, the image is read
    /// in another shape and the outputs differ.
    /// </summary>
    private static void RawPixelSize<T>(Family<T> family, Action<T> alone, Action<T> reshaped, string expected)
        where T : OnnxImageModelOptions
    {
        static void Setup(T o) => (o.InputColumnName, o.RawPixelWidth, o.RawPixelHeight, o.RawPixelChannels) = (nameof(PixelRow.Image), 16, 16, 3);
        var before = family.Run(Setup, input: RawPixels);
        var e = Record.Exception(() => family.Run(Setup, alone, RawPixels));
        Assert.IsType<ArgumentOutOfRangeException>(e);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.NotEqual(before.Signature, family.Run(Setup, reshaped, RawPixels).Signature);
    }

    /// <summary>With an MLImage column that has no image, the error names the file from the column ImagePathColumnName names.</summary>
    private static void ImagePathColumn<T>(Family<T> family)
        where T : OnnxImageModelOptions
    {
        string Message(string? pathColumn)
        {
            static IDataView Images(MLContext ml)
            {
                var rows = ml.Data.LoadFromEnumerable(new[] { new PathRow { ImagePath = "", Alt = "named-by-alt" } });
                return ml.Transforms.LoadImages("Loaded", s_vision, nameof(PathRow.ImagePath)).Fit(rows).Transform(rows);
            }

            var e = Record.Exception(() => family.Run(change: o => (o.InputColumnName, o.ContinueOnError, o.ImagePathColumnName) = ("Loaded", false, pathColumn), input: Images));
            Assert.NotNull(e);
            return e?.ToString() ?? "";
        }

        Assert.DoesNotContain("named-by-alt", Message(null), StringComparison.Ordinal);
        Assert.Contains("named-by-alt", Message(nameof(PathRow.Alt)), StringComparison.Ordinal);
    }

    private static void Images(List<OptionCase> cases)
    {
        var classifier = new CaseList<OnnxImageClassifierEstimator.Options>(new(
            () =>
            {
                var o = new OnnxImageClassifierEstimator.Options { ClassNames = new[] { "cat", "dog", "bird", "fish", "frog" } };
                ImageSetup(o);
                return o;
            },
            ml => ml.Data.LoadFromEnumerable(s_imageRows),
            (ml, o, data) => ml.Transforms.ClassifyImageOnnx(o).Fit(data)), cases);
        ImageOptions(classifier);
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.ScoreColumnName), o => o.ScoreColumnName = "Probabilities");
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.PredictedLabelColumnName), o => o.PredictedLabelColumnName = "Label");
        // The column comes with an embedding tensor only (the fixture's graph has one output: its logits serve as the embedding).
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.EmbeddingColumnName), o => o.EmbeddingColumnName = "Features", setup: o => o.EmbeddingTensorName = "output");
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.TopK), o => o.TopK = 2);
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.EnergyColumnName), o => o.EnergyColumnName = "Energy");
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.LogitsColumnName), o => o.LogitsColumnName = "Logits");
        classifier.Throws<ArgumentOutOfRangeException>(nameof(OnnxImageClassifierEstimator.Options.LogitsTensorName), o => o.LogitsTensorName = "nope");
        classifier.Throws<ArgumentOutOfRangeException>(nameof(OnnxImageClassifierEstimator.Options.EmbeddingTensorName), o => o.EmbeddingTensorName = "nope");
        classifier.Differs(nameof(OnnxImageClassifierEstimator.Options.ClassNames), o => o.ClassNames = new[] { "a", "b", "c", "d", "e" });

        var encoder = new CaseList<OnnxImageEncoderEstimator.Options>(new(
            () =>
            {
                var o = new OnnxImageEncoderEstimator.Options();
                ImageSetup(o);
                return o;
            },
            ml => ml.Data.LoadFromEnumerable(s_imageRows),
            (ml, o, data) => ml.Transforms.EncodeClipImage(o).Fit(data)), cases);
        ImageOptions(encoder);
        encoder.Differs(nameof(OnnxImageEncoderEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Features");
        encoder.Throws<ArgumentOutOfRangeException>(nameof(OnnxImageEncoderEstimator.Options.EmbeddingTensorName), o => o.EmbeddingTensorName = "nope");
        encoder.Differs(nameof(OnnxImageEncoderEstimator.Options.Normalize), o => o.Normalize = false);
    }

    private static void Text(List<OptionCase> cases)
    {
        var rows = new[] { "Hello, world!", "The cat sat on the mat.", "", "zebra quux", "It is NOT a fine day?" }
            .Select((t, i) => new TextRow { Text = t, Alt = i % 2 == 0 ? "a dog" : "THE MAT" }).ToArray();
        string model = Path.Combine(s_text, "bert_like.onnx");
        var c = new CaseList<OnnxTextEncoderEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(model), VocabFile = Path.Combine(s_text, "bert_like_vocab.txt"), Pooling = TextPooling.Mean, MaxLength = 32 },
            ml => ml.Data.LoadFromEnumerable(rows),
            (ml, o, data) => ml.Transforms.EncodeTextOnnx(o).Fit(data)), cases);
        Execution(c, model);
        c.Throws<NotSupportedException>(nameof(OnnxTextEncoderEstimator.Options.ManifestFile), o => o.ManifestFile = Path.Combine(s_vae, "tiny_vae_encoder.json"), "tiny_vae_encoder.json");
        c.Throws<InvalidOperationException>(nameof(OnnxTextEncoderEstimator.Options.VocabFile), o => o.VocabFile = Path.Combine(s_text, "bert_like_vocab_too_big.txt"), "bert_like_vocab_too_big.txt");
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(TextRow.Alt));
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.EmbeddingColumnName), o => o.EmbeddingColumnName = "Features");
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.TokenEmbeddingsColumnName), o => o.TokenEmbeddingsColumnName = "Tokens");
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.Pooling), o => o.Pooling = TextPooling.Cls);
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.Normalize), o => o.Normalize = true);
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.MaxLength), o => o.MaxLength = 4);
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.LowerCase), o => o.LowerCase = false);
        // The folder's modules.json normalizes (and its CLS pooling is overridden by the option's Mean); a vocab.txt is no SentencePiece model.
        c.Differs(nameof(OnnxTextEncoderEstimator.Options.ModelFolder), o => o.ModelFolder = Path.Combine(s_text, "st_folder"));
        c.Throws<InvalidOperationException>(nameof(OnnxTextEncoderEstimator.Options.Tokenizer), o => o.Tokenizer = TextTokenizerKind.SentencePiece, "bert_like_vocab.txt");
        c.Throws<ArgumentOutOfRangeException>(nameof(OnnxTextEncoderEstimator.Options.MergesFile), o => o.MergesFile = Path.Combine(s_text, "bbpe_merges.txt"), "MergesFile");
        foreach (string tensor in new[] { "InputIdsTensorName", "AttentionMaskTensorName", "TokenTypeIdsTensorName", "HiddenStateTensorName", "PooledTensorName", "LogitsTensorName" })
        {
            var property = typeof(OnnxTextEncoderEstimator.Options).GetProperty(tensor)!;
            c.Throws<ArgumentOutOfRangeException>(tensor, o => property.SetValue(o, "nope"));
        }

        c.Compare(nameof(OnnxTextEncoderEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);
        c.Compare(nameof(OnnxTextEncoderEstimator.Options.SortWindow), o => o.SortWindow = 1, (before, after) =>
        {
            Assert.Equal(before.Signature, after.Signature);
            Assert.Equal(4, ((OnnxTextEncoderTransformer)before.Model).Config.SortWindow);
            Assert.Equal(1, ((OnnxTextEncoderTransformer)after.Model).Config.SortWindow);
        });

        // The classifier outputs need a graph with logits (bert_like has none): the fortunes classifier, its manifest beside it.
        var classifier = new CaseList<OnnxTextEncoderEstimator.Options>(new(
            () => new() { ModelFile = RepoPaths.Model("text-fortunes.onnx"), MaxLength = 16 },
            ml => ml.Data.LoadFromEnumerable(rows),
            (ml, o, data) => ml.Transforms.EncodeTextOnnx(o).Fit(data)), cases);
        classifier.Differs(nameof(OnnxTextEncoderEstimator.Options.ScoreColumnName), o => o.ScoreColumnName = "Probabilities");
        classifier.Differs(nameof(OnnxTextEncoderEstimator.Options.PredictedLabelColumnName), o => o.PredictedLabelColumnName = "Label");
        classifier.Custom(nameof(OnnxTextEncoderEstimator.Options.ClassNames), () =>
        {
            Assert.NotEqual(classifier.Family.Run().Signature, classifier.Family.Run(change: o => o.ClassNames = new[] { "a", "b", "c", "d", "e", "f", "g", "h" }).Signature);

            // On a graph without logits class names have nothing to name: refused, not ignored.
            var e = Record.Exception(() => c.Family.Run(change: o => o.ClassNames = new[] { "x", "y" }));
            Assert.IsType<ArgumentOutOfRangeException>(e);
            Assert.Contains(nameof(OnnxTextEncoderEstimator.Options.ClassNames), e.Message, StringComparison.Ordinal);
        });
    }

    private static void Vae(List<OptionCase> cases)
    {
        var images = OptionRows.Random(5, 64, seed: 11);
        var noise = OptionRows.Random(5, 4, seed: 12, scale: 4, offset: -2);
        var pixels = images.Select((image, i) => new PixelRow { Image = image, Alt = images[4 - i], Noise = noise[i] }).ToArray();
        IDataView Pixels(MLContext ml) => Load(ml, pixels, (nameof(PixelRow.Image), 64), (nameof(PixelRow.Alt), 64), (nameof(PixelRow.Noise), 4));
        string encoderFile = Path.Combine(s_vae, "tiny_vae_encoder.onnx"), decoderFile = Path.Combine(s_vae, "tiny_vae_decoder.onnx");
        string encoderManifest = Path.Combine(s_vae, "tiny_vae_encoder.json"), decoderManifest = Path.Combine(s_vae, "tiny_vae_decoder.json");

        var encoder = new CaseList<VaeEncoderEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), ManifestFile = encoderManifest, InputColumnName = nameof(PixelRow.Image) },
            Pixels, (ml, o, data) => ml.Transforms.EncodeVae(o).Fit(data)), cases);
        Execution(encoder, encoderFile);
        encoder.Throws<NotSupportedException>(nameof(VaeEncoderEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        encoder.Differs(nameof(VaeEncoderEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(PixelRow.Alt));
        encoder.Differs(nameof(VaeEncoderEstimator.Options.MeanColumnName), o => o.MeanColumnName = null);
        encoder.Differs(nameof(VaeEncoderEstimator.Options.LogVarianceColumnName), o => o.LogVarianceColumnName = "LogVar");
        encoder.Differs(nameof(VaeEncoderEstimator.Options.LatentColumnName), o => o.LatentColumnName = "Z");
        encoder.Differs(nameof(VaeEncoderEstimator.Options.SampleCount), o => o.SampleCount = 2);
        encoder.Differs(nameof(VaeEncoderEstimator.Options.Seed), o => o.Seed = 5);
        encoder.Differs(nameof(VaeEncoderEstimator.Options.UseLatentMean), o => o.UseLatentMean = true);
        encoder.Differs(nameof(VaeEncoderEstimator.Options.NoiseColumnName), o => o.NoiseColumnName = nameof(PixelRow.Noise));
        encoder.Compare(nameof(VaeEncoderEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var latents = OptionRows.Random(4, 4, seed: 13, scale: 4, offset: -2);
        var latentRows = latents.Select((z, i) => new LatentRow { Latent = z, Alt = latents[3 - i] }).ToArray();
        var decoder = new CaseList<VaeDecoderEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(decoderFile), ManifestFile = decoderManifest },
            ml => Load(ml, latentRows, (nameof(LatentRow.Latent), 4), (nameof(LatentRow.Alt), 4)),
            (ml, o, data) => ml.Transforms.DecodeVae(o).Fit(data)), cases);
        Execution(decoder, decoderFile);
        decoder.Throws<NotSupportedException>(nameof(VaeDecoderEstimator.Options.ManifestFile), o => o.ManifestFile = encoderManifest, Path.GetFileName(encoderManifest));
        decoder.Differs(nameof(VaeDecoderEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(LatentRow.Alt));
        decoder.Differs(nameof(VaeDecoderEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Image");
        decoder.Compare(nameof(VaeDecoderEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var scorer = new CaseList<VaeScorerEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), DecoderModelBytes = Bytes(decoderFile), InputColumnName = nameof(PixelRow.Image) },
            Pixels, (ml, o, data) => ml.Transforms.ScoreVae(o).Fit(data)), cases);
        Execution(scorer, encoderFile);
        scorer.Throws<ArgumentOutOfRangeException>(nameof(VaeScorerEstimator.Options.DecoderModelFile), o => o.DecoderModelFile = decoderFile);
        scorer.Throws<InvalidOperationException>(nameof(VaeScorerEstimator.Options.DecoderModelBytes), o => o.DecoderModelBytes = s_garbage, NotOnnx + "DecoderModelBytes)");
        scorer.Throws<NotSupportedException>(nameof(VaeScorerEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        scorer.Differs(nameof(VaeScorerEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(PixelRow.Alt));
        scorer.Differs(nameof(VaeScorerEstimator.Options.ReconstructionLogLikelihoodColumnName), o => o.ReconstructionLogLikelihoodColumnName = null);
        scorer.Differs(nameof(VaeScorerEstimator.Options.KlDivergenceColumnName), o => o.KlDivergenceColumnName = "Kl");
        scorer.Differs(nameof(VaeScorerEstimator.Options.ElboColumnName), o => o.ElboColumnName = "Bound");
        scorer.Differs(nameof(VaeScorerEstimator.Options.LogLikelihoodColumnName), o => o.LogLikelihoodColumnName = "LogP", setup: o => o.ImportanceSamples = 2);
        scorer.Differs(nameof(VaeScorerEstimator.Options.ImportanceSamples), o => o.ImportanceSamples = 2);
        scorer.Differs(nameof(VaeScorerEstimator.Options.Seed), o => o.Seed = 5);
        scorer.Differs(nameof(VaeScorerEstimator.Options.UseLatentMean), o => o.UseLatentMean = true);
        scorer.Differs(nameof(VaeScorerEstimator.Options.NoiseColumnName), o => o.NoiseColumnName = nameof(PixelRow.Noise));
        scorer.Compare(nameof(VaeScorerEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var detector = new CaseList<VaeAnomalyDetectorEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), DecoderModelBytes = Bytes(decoderFile), InputColumnName = nameof(PixelRow.Image) },
            Pixels, (ml, o, data) => ml.Transforms.DetectAnomaliesVae(o).Fit(data)), cases);
        Execution(detector, encoderFile);
        detector.Throws<ArgumentOutOfRangeException>(nameof(VaeAnomalyDetectorEstimator.Options.DecoderModelFile), o => o.DecoderModelFile = decoderFile);
        detector.Throws<InvalidOperationException>(nameof(VaeAnomalyDetectorEstimator.Options.DecoderModelBytes), o => o.DecoderModelBytes = s_garbage, NotOnnx + "DecoderModelBytes)");
        detector.Throws<NotSupportedException>(nameof(VaeAnomalyDetectorEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(PixelRow.Alt));
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.ScoreColumnName), o => o.ScoreColumnName = "Anomaly");
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.PredictedLabelColumnName), o => o.PredictedLabelColumnName = "IsAnomaly");
        // NumPy-style linear percentile of the 5 training scores: the 50th (the median) is below the default 95th.
        detector.Compare(nameof(VaeAnomalyDetectorEstimator.Options.ThresholdPercentile), o => o.ThresholdPercentile = 50, (before, after) =>
        {
            float was = ((VaeAnomalyDetectorTransformer)before.Model).Threshold, now = ((VaeAnomalyDetectorTransformer)after.Model).Threshold;
            Assert.True(now < was, $"threshold at the 95th percentile {was}, at the 50th {now}");
            Assert.NotEqual(before.Signature, after.Signature);
        });
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.ImportanceSamples), o => o.ImportanceSamples = 2);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.Seed), o => o.Seed = 5);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.UseLatentMean), o => o.UseLatentMean = true);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.NoiseColumnName), o => o.NoiseColumnName = nameof(PixelRow.Noise));
        detector.Compare(nameof(VaeAnomalyDetectorEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.AnomalyScore), o => o.AnomalyScore = VaeAnomalyScore.InputComplexity);
        // The likelihood ratio against the same VAE (every score 0), then with one part of the background replaced.
        string backgroundEncoder = Path.Combine(s_vae, "tiny_vae_background_encoder.onnx"), backgroundDecoder = Path.Combine(s_vae, "tiny_vae_background_decoder.onnx");
        void SelfRatio(VaeAnomalyDetectorEstimator.Options o)
        {
            o.AnomalyScore = VaeAnomalyScore.LikelihoodRatio;
            o.BackgroundModelBytes = Bytes(encoderFile);
            o.BackgroundDecoderModelBytes = Bytes(decoderFile);
        }

        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.BackgroundModelBytes), o => o.BackgroundModelBytes = Bytes(backgroundEncoder), SelfRatio);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.BackgroundModelFile), o => (o.BackgroundModelBytes, o.BackgroundModelFile) = (null, backgroundEncoder), SelfRatio);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.BackgroundDecoderModelBytes), o => o.BackgroundDecoderModelBytes = Bytes(backgroundDecoder), SelfRatio);
        detector.Differs(nameof(VaeAnomalyDetectorEstimator.Options.BackgroundDecoderModelFile), o => (o.BackgroundDecoderModelBytes, o.BackgroundDecoderModelFile) = (null, backgroundDecoder), SelfRatio);
    }

    private static void Clip(List<OptionCase> cases)
    {
        var motion = TestModels.Input("tower_motion.onnx", "features");
        var music = TestModels.Input("tower_music.onnx", "features");
        var towers = Enumerable.Range(0, 3).Select(i => new TowerRow { A = motion.FloatRow(i), B = music.FloatRow(i), AltA = motion.FloatRow(2 - i), AltB = music.FloatRow(2 - i) }).ToArray();
        string towerA = TestModels.Path("tower_motion.onnx"), towerB = TestModels.Path("tower_music.onnx");
        var dual = new CaseList<DualEncoderEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(towerA), ModelBytesB = Bytes(towerB) },
            ml => Load(ml, towers, (nameof(TowerRow.A), 12), (nameof(TowerRow.B), 20), (nameof(TowerRow.AltA), 12), (nameof(TowerRow.AltB), 20)),
            (ml, o, data) => ml.Transforms.EncodeDual(o).Fit(data)), cases);
        Execution(dual, towerA);
        dual.Throws<ArgumentOutOfRangeException>(nameof(DualEncoderEstimator.Options.ModelFileB), o => o.ModelFileB = towerB);
        dual.Throws<InvalidOperationException>(nameof(DualEncoderEstimator.Options.ModelBytesB), o => o.ModelBytesB = s_garbage, NotOnnx + "ModelBytesB)");
        dual.Differs(nameof(DualEncoderEstimator.Options.ColumnNameA), o => o.ColumnNameA = nameof(TowerRow.AltA));
        dual.Differs(nameof(DualEncoderEstimator.Options.ColumnNameB), o => o.ColumnNameB = nameof(TowerRow.AltB));
        dual.Differs(nameof(DualEncoderEstimator.Options.OutputColumnNameA), o => o.OutputColumnNameA = "MotionEmbedding");
        dual.Differs(nameof(DualEncoderEstimator.Options.OutputColumnNameB), o => o.OutputColumnNameB = "MusicEmbedding");
        dual.Differs(nameof(DualEncoderEstimator.Options.SimilarityColumnName), o => o.SimilarityColumnName = "Match");
        dual.Throws<ArgumentOutOfRangeException>(nameof(DualEncoderEstimator.Options.InputTensorNameA), o => o.InputTensorNameA = "nope");
        dual.Throws<ArgumentOutOfRangeException>(nameof(DualEncoderEstimator.Options.InputTensorNameB), o => o.InputTensorNameB = "nope");
        dual.Throws<ArgumentOutOfRangeException>(nameof(DualEncoderEstimator.Options.OutputTensorNameA), o => o.OutputTensorNameA = "nope");
        dual.Throws<ArgumentOutOfRangeException>(nameof(DualEncoderEstimator.Options.OutputTensorNameB), o => o.OutputTensorNameB = "nope");
        dual.Differs(nameof(DualEncoderEstimator.Options.LogitScale), o => o.LogitScale = 2);
        dual.Differs(nameof(DualEncoderEstimator.Options.Normalize), o => o.Normalize = false);
        dual.Compare(nameof(DualEncoderEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var a = OptionRows.Random(4, 6, seed: 14, scale: 2, offset: -1);
        var b = OptionRows.Random(4, 6, seed: 15, scale: 2, offset: -1);
        var pairs = a.Select((v, i) => new PairRow { A = v, B = b[i], Alt = a[3 - i] }).ToArray();
        var similarity = new CaseList<EmbeddingSimilarityEstimator.Options>(new(
            () => new() { ColumnNameA = nameof(PairRow.A), ColumnNameB = nameof(PairRow.B) },
            ml => Load(ml, pairs, (nameof(PairRow.A), 6), (nameof(PairRow.B), 6), (nameof(PairRow.Alt), 6)),
            (ml, o, data) => ml.Transforms.ComputeEmbeddingSimilarity(o).Fit(data)), cases);
        similarity.Differs(nameof(EmbeddingSimilarityEstimator.Options.ColumnNameA), o => o.ColumnNameA = nameof(PairRow.Alt));
        similarity.Differs(nameof(EmbeddingSimilarityEstimator.Options.ColumnNameB), o => o.ColumnNameB = nameof(PairRow.Alt));
        similarity.Differs(nameof(EmbeddingSimilarityEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Cosine");
        similarity.Differs(nameof(EmbeddingSimilarityEstimator.Options.LogitScale), o => o.LogitScale = 3);
        similarity.Differs(nameof(EmbeddingSimilarityEstimator.Options.ManifestFile), o => o.ManifestFile = RepoPaths.Model("clip-fashion-image.json"));

        var index = OptionRows.Random(20, 6, seed: 16, scale: 2, offset: -1);
        var indexRows = index.Select((v, i) => new EmbeddingRow { Embedding = v, Alt = index[19 - i], Key = $"item{i}" }).ToArray();
        var queries = OptionRows.Random(4, 6, seed: 17, scale: 2, offset: -1);
        var queryRows = queries.Select((v, i) => new EmbeddingRow { Embedding = v, Alt = queries[3 - i], Key = $"query{i}" }).ToArray();
        var retrieval = new CaseList<EmbeddingRetrievalEstimator.Options>(new(
            () => new() { InputColumnName = nameof(EmbeddingRow.Embedding), TopK = 3 },
            ml => Load(ml, queryRows, (nameof(EmbeddingRow.Embedding), 6), (nameof(EmbeddingRow.Alt), 6)),
            (ml, o, _) => ml.Transforms.RetrieveNearestEmbeddings(o).Fit(Load(ml, indexRows, (nameof(EmbeddingRow.Embedding), 6), (nameof(EmbeddingRow.Alt), 6)))), cases);
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(EmbeddingRow.Alt), setup: o => o.IndexColumnName = nameof(EmbeddingRow.Embedding));
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.IndexColumnName), o => o.IndexColumnName = nameof(EmbeddingRow.Alt));
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.IndexKeyColumnName), o => o.IndexKeyColumnName = nameof(EmbeddingRow.Key));
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.TopK), o => o.TopK = 2);
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.IndicesColumnName), o => o.IndicesColumnName = "Rows");
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.ScoresColumnName), o => o.ScoresColumnName = "Cosines");
        retrieval.Differs(nameof(EmbeddingRetrievalEstimator.Options.KeysColumnName), o => o.KeysColumnName = "Names", setup: o => o.IndexKeyColumnName = nameof(EmbeddingRow.Key));
        retrieval.Throws<ArgumentOutOfRangeException>(nameof(EmbeddingRetrievalEstimator.Options.BatchSize), o => o.BatchSize = 0);

        var embeddings = OptionRows.Random(4, 16, seed: 18, scale: 2, offset: -1);
        var embeddingRows = embeddings.Select((v, i) => new EmbeddingRow { Embedding = v, Alt = embeddings[3 - i] }).ToArray();
        string textModel = Path.Combine(s_text, "bert_like.onnx");
        var zeroShot = new CaseList<ZeroShotClassifierEstimator.Options>(new(
            () => new()
            {
                ModelBytes = Bytes(textModel),
                VocabFile = Path.Combine(s_text, "bert_like_vocab.txt"),
                Labels = new[] { "cat", "dog", "fish" },
                Templates = new[] { "a photo of a {}.", "the {} sat on the mat" },
                LogitScale = 10f,
                InputColumnName = nameof(EmbeddingRow.Embedding),
            },
            ml => Load(ml, embeddingRows, (nameof(EmbeddingRow.Embedding), 16), (nameof(EmbeddingRow.Alt), 16)),
            (ml, o, data) => ml.Transforms.ClassifyZeroShot(o).Fit(data)), cases);
        Execution(zeroShot, textModel, sessions: false);
        zeroShot.Throws<NotSupportedException>(nameof(ZeroShotClassifierEstimator.Options.ManifestFile), o => o.ManifestFile = Path.Combine(s_vae, "tiny_vae_encoder.json"), "tiny_vae_encoder.json");
        zeroShot.Throws<InvalidOperationException>(nameof(ZeroShotClassifierEstimator.Options.VocabFile), o => o.VocabFile = Path.Combine(s_text, "bert_like_vocab_too_big.txt"), "bert_like_vocab_too_big.txt");
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.Labels), o => o.Labels = new[] { "bird", "frog", "cow" });
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.ClassNames), o => o.ClassNames = new[] { "bird", "frog", "cow" });
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.Templates), o => o.Templates = new[] { "{}" });
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.LogitScale), o => o.LogitScale = 1f);
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(EmbeddingRow.Alt));
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.ScoreColumnName), o => o.ScoreColumnName = "Probabilities");
        zeroShot.Differs(nameof(ZeroShotClassifierEstimator.Options.PredictedLabelColumnName), o => o.PredictedLabelColumnName = "Label");
        zeroShot.Throws<ArgumentOutOfRangeException>(nameof(ZeroShotClassifierEstimator.Options.BatchSize), o => o.BatchSize = 0);
    }
}
