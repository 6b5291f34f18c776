using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

/// <summary>
/// A bad image in the middle row (position 1) of three, at run time, for both image models (the notes' ViT classifier and CLIP image
/// tower, 28 x 28 grey): strictly, the exception names the column, the row position and the file or the sizes; with ContinueOnError
/// the row is flagged, its output is NaN, and the other two rows score exactly as in a run without the bad row.
/// </summary>
public sealed class ImageBadInputTests
{
    public const string Classifier = nameof(MlNotesTransformsCatalog.ClassifyImageOnnx);
    public const string Encoder = nameof(MlNotesTransformsCatalog.EncodeClipImage);

    private static readonly string[] s_good = { "00000.png", "00001.png" };

    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class PixelRow
    {
        [VectorType]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    public enum BadInput
    {
        /// <summary>The model reads the path column itself; the file is not there.</summary>
        MissingFile,

        /// <summary>The model reads the path column itself; the file has 0 bytes.</summary>
        EmptyFile,

        /// <summary>LoadImages reads the paths; the file is not there.</summary>
        MissingFileThroughLoadImages,

        /// <summary>LoadImages reads the paths; the file has 0 bytes.</summary>
        EmptyFileThroughLoadImages,

        /// <summary>A variable-size pixel vector column whose middle row has 783 values instead of 28 x 28 x 1 = 784.</summary>
        ShortPixelVector,

        /// <summary>As above, with 785 values.</summary>
        LongPixelVector,
    }

    [Theory]
    [InlineData(Classifier, BadInput.MissingFile)]
    [InlineData(Classifier, BadInput.EmptyFile)]
    [InlineData(Classifier, BadInput.MissingFileThroughLoadImages)]
    [InlineData(Classifier, BadInput.EmptyFileThroughLoadImages)]
    [InlineData(Classifier, BadInput.ShortPixelVector)]
    [InlineData(Classifier, BadInput.LongPixelVector)]
    [InlineData(Encoder, BadInput.MissingFile)]
    [InlineData(Encoder, BadInput.EmptyFile)]
    [InlineData(Encoder, BadInput.MissingFileThroughLoadImages)]
    [InlineData(Encoder, BadInput.EmptyFileThroughLoadImages)]
    [InlineData(Encoder, BadInput.ShortPixelVector)]
    [InlineData(Encoder, BadInput.LongPixelVector)]
    public void BadImageInTheMiddleRow_Strict_NamesColumnRowAndFileOrSizes(string model, BadInput badCase)
    {
        using var temp = Folder();
        var ml = new MLContext(seed: 1);
        var (data, column) = Rows(ml, temp, badCase, withBadRow: true);
        using var scorer = Fit(ml, model, column, temp, continueOnError: false, data);

        var e = Assert.Throws<InvalidOperationException>(() => Read(scorer, model, data, continueOnError: false));

        string prefix = $"Could not read the image in column '{column}' at row position 1: ";
        string bad = temp.File(badCase is BadInput.MissingFile or BadInput.MissingFileThroughLoadImages ? "no-such-image.png" : "empty.png");
        switch (badCase)
        {
            case BadInput.MissingFile:
                Assert.Equal(prefix + $"the image file '{bad}' does not exist.", e.Message);
                break;
            case BadInput.EmptyFile:
                Assert.Equal(prefix + $"the image file '{bad}' is empty (0 bytes).", e.Message);
                break;
            case BadInput.MissingFileThroughLoadImages:
                // The rest is ML.NET's LoadImages' own message (File.ReadAllBytes'), which names the full path.
                Assert.StartsWith(prefix + "the image 'no-such-image.png' (column 'ImagePath') cannot be read: ", e.Message, StringComparison.Ordinal);
                Assert.Contains($"'{bad}'", e.Message, StringComparison.Ordinal);
                break;
            case BadInput.EmptyFileThroughLoadImages:
                // LoadImages hands over no folder: the row's own path is what can be named, with the decoder's reason.
                Assert.StartsWith(prefix + "the image 'empty.png' (column 'ImagePath') cannot be read: ", e.Message, StringComparison.Ordinal);
                Assert.Contains("Invalid input stream contents", e.Message, StringComparison.Ordinal);
                break;
            default:
                int actual = badCase == BadInput.ShortPixelVector ? 783 : 785;
                Assert.Equal(prefix + $"the pixel vector has {actual} values, expected 784 (28 x 28 x 1).", e.Message);
                break;
        }

        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Theory]
    [InlineData(Classifier, BadInput.MissingFile)]
    [InlineData(Classifier, BadInput.EmptyFile)]
    [InlineData(Classifier, BadInput.EmptyFileThroughLoadImages)]
    [InlineData(Classifier, BadInput.ShortPixelVector)]
    [InlineData(Encoder, BadInput.MissingFile)]
    [InlineData(Encoder, BadInput.EmptyFile)]
    [InlineData(Encoder, BadInput.EmptyFileThroughLoadImages)]
    [InlineData(Encoder, BadInput.ShortPixelVector)]
    public void BadImageInTheMiddleRow_ContinueOnError_FlagsItAndLeavesTheOtherRowsUnchanged(string model, BadInput badCase)
    {
        using var temp = Folder();
        var ml = new MLContext(seed: 1);
        var (data, column) = Rows(ml, temp, badCase, withBadRow: true);
        var (clean, _) = Rows(ml, temp, badCase, withBadRow: false);
        using var lenient = Fit(ml, model, column, temp, continueOnError: true, data);
        using var strict = Fit(ml, model, column, temp, continueOnError: false, clean);

        var (outputs, flags, labels) = Read(lenient, model, data, continueOnError: true);
        var (expected, _, expectedLabels) = Read(strict, model, clean, continueOnError: false);

        Assert.Equal(new[] { false, true, false }, flags);
        Assert.All(outputs[1], v => Assert.True(float.IsNaN(v), $"the bad row's output is {v}, not NaN"));
        // The good rows are scored in the same batch as the zero-filled bad slot; ONNX Runtime scores rows independently on the
        // CPU (measured: bit-identical to the clean two-row run), so the comparison is exact.
        Assert.Equal(expected[0], outputs[0]);
        Assert.Equal(expected[1], outputs[2]);
        Assert.Equal(1, ErrorCount(lenient)); // one pass over the rows read the bad row once
        if (model == Classifier)
        {
            Assert.Equal(new[] { expectedLabels[0], 0u, expectedLabels[1] }, labels);
            Assert.Equal(new[] { 5u, 8u }, expectedLabels); // 00000.png is a Coat (class 4), 00001.png a Sneaker (7): keys are class + 1
        }
    }

    private static TempFolder Folder()
    {
        var temp = TestModels.TempFolder();
        foreach (string image in s_good)
        {
            File.Copy(Path.Combine(RepoPaths.FashionSubset, image), temp.File(image));
        }

        File.WriteAllBytes(temp.File("empty.png"), Array.Empty<byte>());
        return temp;
    }

    /// <summary>The rows (good, bad, good) or (good, good), and the column the model reads.</summary>
    private static (IDataView Data, string Column) Rows(MLContext ml, TempFolder temp, BadInput badCase, bool withBadRow)
    {
        if (badCase is BadInput.ShortPixelVector or BadInput.LongPixelVector)
        {
            var good = s_good.Select(Pixels).ToArray();
            var bad = new float[badCase == BadInput.ShortPixelVector ? 783 : 785];
            Array.Fill(bad, 128f);
            var rows = withBadRow ? new[] { good[0], bad, good[1] } : good;
            return (ml.Data.LoadFromEnumerable(rows.Select(p => new PixelRow { Pixels = p })), nameof(PixelRow.Pixels));
        }

        string badFile = badCase is BadInput.MissingFile or BadInput.MissingFileThroughLoadImages ? "no-such-image.png" : "empty.png";
        var paths = withBadRow ? new[] { s_good[0], badFile, s_good[1] } : s_good;
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));
        if (badCase is BadInput.MissingFile or BadInput.EmptyFile)
        {
            return (data, nameof(PathRow.ImagePath));
        }

        return (ml.Transforms.LoadImages("Image", temp.FullPath, nameof(PathRow.ImagePath)).Fit(data).Transform(data), "Image");
    }

    private static float[] Pixels(string file)
    {
        using var image = MLImage.CreateFromFile(Path.Combine(RepoPaths.FashionSubset, file));
        var source = image.Pixels.ToArray();
        return Enumerable.Range(0, 28 * 28).Select(p => (float)source[(4 * p) + 1]).ToArray(); // grey: every colour channel is the value
    }

    private static OwnedTransformer Fit(MLContext ml, string model, string column, TempFolder temp, bool continueOnError, IDataView data)
    {
        string? folder = column == nameof(PathRow.ImagePath) ? temp.FullPath : null;
        if (model == Classifier)
        {
            return new(ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
            {
                ModelFile = RepoPaths.Model("vit-fashion.onnx"),
                InputColumnName = column,
                ImageFolder = folder,
                ContinueOnError = continueOnError,
                BatchSize = 4,
            }).Fit(data));
        }

        return new(ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = RepoPaths.Model("clip-fashion-image.onnx"),
            InputColumnName = column,
            ImageFolder = folder,
            ContinueOnError = continueOnError,
            BatchSize = 4,
        }).Fit(data));
    }

    private static long ErrorCount(OwnedTransformer scorer) => scorer.Transformer switch
    {
        OnnxImageClassifierTransformer c => c.ErrorCount,
        OnnxImageEncoderTransformer e => e.ErrorCount,
        _ => throw new InvalidOperationException(scorer.Transformer.GetType().Name),
    };

    /// <summary>One pass over the output: the score or embedding, the error flag and (classifier) the predicted label of each row.</summary>
    private static (float[][] Outputs, bool[] Flags, uint[] Labels) Read(OwnedTransformer scorer, string model, IDataView data, bool continueOnError)
    {
        var view = scorer.Transformer.Transform(data);
        var output = view.Schema[model == Classifier ? "Score" : "ImageEmbedding"];
        var flag = continueOnError ? view.Schema["ImageError"] : (DataViewSchema.Column?)null;
        var label = model == Classifier ? view.Schema["PredictedLabel"] : (DataViewSchema.Column?)null;
        var columns = new[] { output, flag, label }.Where(c => c != null).Select(c => c!.Value).ToArray();
        using var cursor = view.GetRowCursor(columns);
        var outputGetter = cursor.GetGetter<VBuffer<float>>(output);
        var flagGetter = flag != null ? cursor.GetGetter<bool>(flag.Value) : null;
        var labelGetter = label != null ? cursor.GetGetter<uint>(label.Value) : null;
        var outputs = new System.Collections.Generic.List<float[]>();
        var flags = new System.Collections.Generic.List<bool>();
        var labels = new System.Collections.Generic.List<uint>();
        VBuffer<float> value = default;
        bool failed = false;
        uint key = 0;
        while (cursor.MoveNext())
        {
            outputGetter(ref value);
            outputs.Add(value.DenseValues().ToArray());
            flagGetter?.Invoke(ref failed);
            flags.Add(failed);
            labelGetter?.Invoke(ref key);
            labels.Add(key);
        }

        return (outputs.ToArray(), flags.ToArray(), labels.ToArray());
    }

    /// <summary>Either image transformer, disposed with the test.</summary>
    private sealed class OwnedTransformer(ITransformer transformer) : IDisposable
    {
        public ITransformer Transformer { get; } = transformer;

        public void Dispose() => (Transformer as IDisposable)?.Dispose();
    }
}
