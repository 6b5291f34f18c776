using System;
using System.Linq;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

/// <summary>
/// Post-processing computed once per row in the batch: every getter, in any order and read again, gives what the column gives read
/// alone (only that column active); the zero-shot head reads each row's embedding once whatever getters ask; the direct
/// preprocessing path gives the general path's bits.
/// </summary>
public sealed class PostProcessingTests
{
    private static readonly string s_folder = TestModels.Path("vision");
    private static readonly string s_text = RepoPaths.Model("clip-fashion-text.onnx");

    [Fact]
    public void Classifier_EveryGetterInAnyOrderTwice_EqualsEachColumnReadAlone_AndAnUnreadableImageGetsMissingOutputs()
    {
        var ml = new MLContext(seed: 1);
        var fixture = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(System.IO.Path.Combine(s_folder, "user_classifier_fixture.json")));
        var images = fixture.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).Append("no-such-image.png").ToArray();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new OnnxImageClassifierTests.ImageRow { ImagePath = i }));
        var options = OnnxImageClassifierTests.UserOptions();
        options.InputColumnName = nameof(OnnxImageClassifierTests.ImageRow.ImagePath);
        options.ImageFolder = s_folder;
        options.TopK = 3;
        options.ContinueOnError = true;
        using var classifier = ml.Transforms.ClassifyImageOnnx(options).Fit(data);
        var output = classifier.Transform(data);
        var alone = (
            Scores: output.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray(),
            Labels: output.GetColumn<uint>("PredictedLabel").ToArray(),
            TopLabels: output.GetColumn<VBuffer<ReadOnlyMemory<char>>>("TopKLabels").Select(v => v.DenseValues().Select(x => x.ToString()).ToArray()).ToArray(),
            TopScores: output.GetColumn<VBuffer<float>>("TopKScores").Select(v => v.DenseValues().ToArray()).ToArray(),
            Errors: output.GetColumn<bool>("ImageError").ToArray());

        var columns = new[] { "ImageError", "TopKScores", "TopKLabels", "PredictedLabel", "Score" }.Select(n => output.Schema[n]).ToArray();
        using var cursor = output.GetRowCursor(columns);
        var error = cursor.GetGetter<bool>(columns[0]);
        var topScores = cursor.GetGetter<VBuffer<float>>(columns[1]);
        var topLabels = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(columns[2]);
        var label = cursor.GetGetter<uint>(columns[3]);
        var score = cursor.GetGetter<VBuffer<float>>(columns[4]);
        int row = 0;
        while (cursor.MoveNext())
        {
            for (int read = 0; read < 2; read++)
            {
                bool e = false;
                uint l = 0;
                VBuffer<float> ts = default, s = default;
                VBuffer<ReadOnlyMemory<char>> tl = default;
                error(ref e);
                topScores(ref ts);
                topLabels(ref tl);
                label(ref l);
                score(ref s);
                Assert.Equal(alone.Errors[row], e);
                Assert.Equal(alone.TopScores[row], ts.DenseValues().ToArray());
                Assert.Equal(alone.TopLabels[row], tl.DenseValues().Select(x => x.ToString()).ToArray());
                Assert.Equal(alone.Labels[row], l);
                Assert.Equal(alone.Scores[row], s.DenseValues().ToArray());
            }

            row++;
        }

        Assert.Equal(images.Length, row);
        int bad = images.Length - 1;
        Assert.Equal(Enumerable.Repeat(false, bad).Append(true), alone.Errors);
        Assert.All(alone.Scores[bad], v => Assert.True(float.IsNaN(v)));
        Assert.Equal(0u, alone.Labels[bad]);
        Assert.Equal(new[] { "", "", "" }, alone.TopLabels[bad]);
        Assert.All(alone.TopScores[bad], v => Assert.True(float.IsNaN(v)));
        for (int i = 0; i < bad; i++)
        {
            var p = alone.Scores[i];
            var order = Enumerable.Range(0, p.Length).OrderByDescending(j => p[j]).ThenBy(j => j).Take(3).ToArray();
            Assert.Equal(order.Select(j => options.ClassNames![j]), alone.TopLabels[i]);
            Assert.Equal(order.Select(j => p[j]), alone.TopScores[i]);
            Assert.Equal((uint)order[0] + 1, alone.Labels[i]);
        }
    }

    [Fact]
    public void ZeroShot_ReadsEachRowsEmbeddingOnce_WhenScoreAndLabelAreEachReadTwice()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(5);
        var rows = Enumerable.Range(0, 3).Select(_ => new CountingRow(Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray())).ToArray();
        var schema = SchemaDefinition.Create(typeof(CountingRow));
        schema[nameof(CountingRow.Embedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 64);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var zeroShot = ml.Transforms.ClassifyZeroShot(s_text, new[] { "bag", "shirt", "sneaker" }, inputColumnName: nameof(CountingRow.Embedding)).Fit(data);
        var output = zeroShot.Transform(data);
        CountingRow.Reads = 0;

        var columns = new[] { output.Schema["Score"], output.Schema["PredictedLabel"] };
        using var cursor = output.GetRowCursor(columns);
        var score = cursor.GetGetter<VBuffer<float>>(columns[0]);
        var label = cursor.GetGetter<uint>(columns[1]);
        int count = 0;
        while (cursor.MoveNext())
        {
            VBuffer<float> first = default, second = default;
            uint l1 = 0, l2 = 0;
            label(ref l1);
            score(ref first);
            score(ref second);
            label(ref l2);
            Assert.Equal(first.DenseValues(), second.DenseValues());
            Assert.Equal(l1, l2);
            Assert.Equal((uint)TensorPrimitives.IndexOfMax(first.DenseValues().ToArray()) + 1, l1);
            count++;
        }

        Assert.Equal(3, count);
        // One read of the upstream embedding per row, whichever getters ask and how often.
        Assert.Equal(3, CountingRow.Reads);
    }

    [Theory]
    [InlineData(1, 28, 28, 1.0 / 255)]
    [InlineData(3, 5, 7, 1.0 / 255)]
    [InlineData(3, 4, 4, 0.0041)]
    public void DirectPreprocessing_GivesTheGeneralPathsBits_AndDeclinesWhatItDoesNotCover(int channels, int width, int height, double scale)
    {
        var random = new Random(channels + width);
        var settings = new ImagePreprocessingSettings(width, height, channels, ResizeKind.None, 0, false, scale,
            Enumerable.Range(0, channels).Select(c => 0.3f + (0.1f * c)).ToArray(), Enumerable.Range(0, channels).Select(c => 0.35f - (0.05f * c)).ToArray());
        var pixels = new byte[width * height * channels];
        random.NextBytes(pixels);
        pixels[0] = 0;
        pixels[1] = 255;
        var format = channels == 1 ? PixelFormat.Grey : PixelFormat.Rgb;
        var general = new float[pixels.Length];
        var direct = new float[pixels.Length];

        new ImagePreprocessor(settings).Run(pixels, width, height, format, general);
        bool taken = new ImagePreprocessor(settings).TryRunDirect(pixels, width, height, format, direct);

        Assert.True(taken);
        Assert.Equal(general.Select(BitConverter.SingleToInt32Bits), direct.Select(BitConverter.SingleToInt32Bits));
        var other = new float[pixels.Length];
        Assert.False(new ImagePreprocessor(settings).TryRunDirect(pixels, width, height, PixelFormat.Bgra, other));
        Assert.False(new ImagePreprocessor(settings with { Width = width + 1 }).TryRunDirect(pixels, width, height, format, other));
        Assert.All(other, v => Assert.Equal(0f, v));
    }

    public sealed class CountingRow
    {
        private readonly float[] _embedding;

        public CountingRow()
            : this(Array.Empty<float>())
        {
        }

        public CountingRow(float[] embedding) => _embedding = embedding;

        // Only this class's one test counts; xunit runs a class's tests one at a time.
        public static int Reads { get; set; }

        public float[] Embedding
        {
            get
            {
                Reads++;
                return _embedding;
            }

            set => throw new NotSupportedException();
        }
    }
}
