using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

public sealed class OnnxScoringTransformerTests
{
    private const float Tolerance = 1e-4f;

    [Fact]
    public void Mlp_MatchesPyTorchFixture()
    {
        var ml = new MLContext(seed: 1);
        var x = TestModels.Input("mlp.onnx", "x");
        var y = TestModels.Output("mlp.onnx", "y");
        var rows = Enumerable.Range(0, 3).Select(i => new MlpRow { Id = i, x = x.FloatRow(i) }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);

        var scored = ml.Data.CreateEnumerable<MlpScored>(scorer.Transform(data), reuseRowObject: false).ToArray();

        for (int i = 0; i < 3; i++)
        {
            AssertClose(y.FloatRow(i), scored[i].y, Tolerance);
        }
    }

    [Fact]
    public void VitSmall_MatchesPyTorchFixture_BothOutputs()
    {
        var ml = new MLContext(seed: 1);
        var image = TestModels.Input("vit_small.onnx", "image");
        var rows = Enumerable.Range(0, 3).Select(i => new ImageRow { Id = i, image = image.FloatRow(i) }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.VitSmall, batchSize: 2).Fit(data);

        var scored = ml.Data.CreateEnumerable<ImageScored>(scorer.Transform(data), reuseRowObject: false).ToArray();

        for (int i = 0; i < 3; i++)
        {
            AssertClose(TestModels.Output("vit_small.onnx", "logits").FloatRow(i), scored[i].logits, Tolerance);
            AssertClose(TestModels.Output("vit_small.onnx", "embedding").FloatRow(i), scored[i].embedding, Tolerance);
        }
    }

    [Fact]
    public void MultiIo_EveryElementType_AndAScalarOutput_MatchPyTorch()
    {
        var ml = new MLContext(seed: 1);
        const string graph = "multi_io.onnx";
        var rows = Enumerable.Range(0, 3).Select(i => new MultiIoRow
        {
            a = TestModels.Input(graph, "a").FloatRow(i),
            b = TestModels.Input(graph, "b").Row(i).ToArray(),
            c = TestModels.Input(graph, "c").Row(i).Select(v => (int)v).ToArray(),
            d = TestModels.Input(graph, "d").Row(i).Select(v => (long)v).ToArray(),
            m = TestModels.Input(graph, "m").Row(i).Select(v => v != 0).ToArray(),
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.MultiIo).Fit(data);
        var output = scorer.Transform(data);

        Assert.Equal(NumberDataViewType.Int64, output.Schema["s"].Type);
        Assert.Equal(new VectorDataViewType(BooleanDataViewType.Instance, 5), output.Schema["p"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Double, 3), output.Schema["g"].Type);
        var scored = ml.Data.CreateEnumerable<MultiIoScored>(output, reuseRowObject: false).ToArray();
        for (int i = 0; i < 3; i++)
        {
            AssertClose(TestModels.Output(graph, "f").FloatRow(i), scored[i].f, 1e-6f);
            Assert.Equal(TestModels.Output(graph, "g").Row(i).ToArray(), scored[i].g);
            Assert.Equal(TestModels.Output(graph, "h").Row(i).Select(v => (int)v), scored[i].h);
            Assert.Equal((long)TestModels.Output(graph, "s").Row(i).Single(), scored[i].s);
            Assert.Equal(TestModels.Output(graph, "p").Row(i).Select(v => v != 0), scored[i].p);
        }
    }

    [Fact]
    public void VariableLengthRows_AreScoredUnpadded_InRunsOfEqualLength()
    {
        var ml = new MLContext(seed: 1);
        const string graph = "varlen.onnx";
        var ids = TestModels.Input(graph, "input_ids");
        var mask = TestModels.Input(graph, "attention_mask");
        var pooled = TestModels.Output(graph, "pooled");
        var hidden = TestModels.Output(graph, "hidden");
        // The fixture rows are padded to 7; fed here unpadded (lengths 5, 2, 7) and twice over, so lengths repeat.
        var rows = new List<TokenRow>();
        for (int copy = 0; copy < 2; copy++)
        {
            for (int i = 0; i < 3; i++)
            {
                int length = (int)mask.Row(i).Sum();
                rows.Add(new TokenRow
                {
                    Id = rows.Count,
                    input_ids = ids.Row(i).Take(length).Select(v => (long)v).ToArray(),
                    attention_mask = Enumerable.Repeat(1L, length).ToArray(),
                });
            }
        }

        // Sorted by length: 2, 2, 5, 5, 7, 7 -> three runs of equal length in one batch of 6.
        var sorted = rows.OrderBy(r => r.input_ids.Length).ToArray();
        var data = ml.Data.LoadFromEnumerable(sorted);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.VarLen, batchSize: 8).Fit(data);
        var output = scorer.Transform(data);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single), output.Schema["hidden"].Type);

        var scored = ml.Data.CreateEnumerable<TokenScored>(output, reuseRowObject: false).ToArray();

        Assert.Equal(3, scorer.RunCount);
        foreach (var row in scored)
        {
            int fixtureRow = row.Id % 3;
            int length = sorted.Single(r => r.Id == row.Id).input_ids.Length;
            AssertClose(pooled.FloatRow(fixtureRow), row.pooled, Tolerance);
            Assert.Equal(length * 8, row.hidden.Length);
            AssertClose(hidden.FloatRow(fixtureRow).Take(length * 8).ToArray(), row.hidden, Tolerance);
        }
    }

    [Fact]
    public void MatchesApplyOnnxModel_AndRawOnnxRuntime_OnTheSmallVit()
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageRow.Random(37, seed: 5);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var reference = ml.Transforms.ApplyOnnxModel(new[] { "logits", "embedding" }, new[] { "image" }, TestModels.VitSmall).Fit(data);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.VitSmall, batchSize: 16).Fit(data);

        var expected = ml.Data.CreateEnumerable<ImageScored>(reference.Transform(data), reuseRowObject: false).ToArray();
        var actual = ml.Data.CreateEnumerable<ImageScored>(scorer.Transform(data), reuseRowObject: false).ToArray();

        using var session = new InferenceSession(TestModels.VitSmall);
        var packed = rows.SelectMany(r => r.image).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(packed, new long[] { rows.Length, 1, 28, 28 });
        using var raw = session.Run(new RunOptions(), new[] { "image" }, new[] { input }, new[] { "logits" });
        var rawLogits = raw[0].GetTensorDataAsSpan<float>().ToArray();

        Assert.Equal(rows.Select(r => r.Id), actual.Select(r => r.Id));
        for (int i = 0; i < rows.Length; i++)
        {
            AssertClose(expected[i].logits, actual[i].logits, 1e-5f);
            AssertClose(expected[i].embedding, actual[i].embedding, 1e-5f);
            AssertClose(rawLogits.AsSpan(i * 10, 10).ToArray(), actual[i].logits, 1e-5f);
        }
    }

    /// <summary>Batches of N against batch 1, 50 rows: N = 3, 7, 8 leave a short last batch; 50 is one full batch; 64 one padded-short batch.</summary>
    [Theory]
    [InlineData(3, 17)]
    [InlineData(7, 8)]
    [InlineData(8, 7)]
    [InlineData(50, 1)]
    [InlineData(64, 1)]
    public void BatchOutput_EqualsSingleRowOutput(int batchSize, int runs)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(50, seed: 2));
        using var single = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: 1).Fit(data);
        using var batched = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: batchSize).Fit(data);

        var one = ml.Data.CreateEnumerable<MlpScored>(single.Transform(data), reuseRowObject: false).ToArray();
        var many = ml.Data.CreateEnumerable<MlpScored>(batched.Transform(data), reuseRowObject: false).ToArray();

        Assert.Equal(50, single.RunCount);
        Assert.Equal(runs, batched.RunCount); // ceil(50 / N): the rows were really scored N at a time
        Assert.Equal(Enumerable.Range(0, 50), many.Select(r => r.Id));
        for (int i = 0; i < one.Length; i++)
        {
            // Measured gap 0 (bit-identical) for every N here on this x64 VM; 1e-5 on outputs of magnitude ~1 leaves room for
            // ONNX Runtime picking another GEMM kernel for another batch size on another CPU, and catches any row mix-up.
            AssertClose(one[i].y, many[i].y, 1e-5f);
        }
    }

    [Fact]
    public void RunCount_IsRowsOverBatchSize_RoundedUp_AndOrderIsKept()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(103, seed: 3));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: 10).Fit(data);

        var scored = ml.Data.CreateEnumerable<MlpScored>(scorer.Transform(data), reuseRowObject: false).ToArray();

        Assert.Equal(11, scorer.RunCount);
        Assert.Equal(Enumerable.Range(0, 103), scored.Select(r => r.Id));
    }

    [Fact]
    public void TakeThree_CostsOneBatch()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(200, seed: 3));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: 32).Fit(data);

        var firstThree = ml.Data.CreateEnumerable<MlpScored>(scorer.Transform(data), reuseRowObject: false).Take(3).ToArray();

        Assert.Equal(3, firstThree.Length);
        Assert.Equal(1, scorer.RunCount);
    }

    [Fact]
    public void InactiveOutputs_CostNothing()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(ImageRow.Random(40, seed: 3));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.VitSmall).Fit(data);
        var output = scorer.Transform(data);

        var ids = output.GetColumn<int>("Id").ToArray();
        Assert.Equal(40, ids.Length);
        Assert.Equal(0, scorer.RunCount);

        // Reading one output requests only that output from ONNX Runtime; the run count shows one run.
        var logits = output.GetColumn<VBuffer<float>>("logits").ToArray();
        Assert.Equal(40, logits.Length);
        Assert.Equal(1, scorer.RunCount);
    }

    [Fact]
    public void ParallelCursorSet_ScoresEveryRowOnce_WithTheSingleCursorsOutputs()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(MlpRow.Random(300, seed: 4)));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options { ModelFile = TestModels.Mlp, BatchSize = 16, IntraOpNumThreads = 1 }).Fit(data);
        var view = scorer.Transform(data);
        var expected = ml.Data.CreateEnumerable<MlpScored>(view, reuseRowObject: false).ToDictionary(r => r.Id, r => r.y);
        var columns = new[] { view.Schema["Id"], view.Schema["y"] };

        var cursors = view.GetRowCursorSet(columns, 2);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<int, float[]>();
        int served = 0;
        System.Threading.Tasks.Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var id = cursor.GetGetter<int>(columns[0]);
                var y = cursor.GetGetter<VBuffer<float>>(columns[1]);
                int idValue = 0;
                VBuffer<float> yValue = default;
                long last = -1;
                while (cursor.MoveNext())
                {
                    Assert.True(cursor.Position > last || cursor.Batch != 0, "positions increase within a cursor");
                    last = cursor.Position;
                    id(ref idValue);
                    y(ref yValue);
                    Assert.True(seen.TryAdd(idValue, yValue.DenseValues().ToArray()), $"row {idValue} served twice");
                    System.Threading.Interlocked.Increment(ref served);
                }
            }
        });

        // Two asked for, two given: the cached source splits into two cursors, each wrapped in a batching cursor of the set.
        Assert.Equal(2, cursors.Length);
        Assert.Equal(300, served);
        Assert.Equal(Enumerable.Range(0, 300), seen.Keys.Order());
        foreach (var (id, y) in seen)
        {
            AssertClose(expected[id], y, 1e-5f);
        }
    }

    [Fact]
    public void PredictionEngine_ScoresOneRowAtATime_LikeTheBatch()
    {
        var ml = new MLContext(seed: 1);
        var rows = MlpRow.Random(5, seed: 9);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        var batch = ml.Data.CreateEnumerable<MlpScored>(scorer.Transform(data), reuseRowObject: false).ToArray();

        using var engine = ml.Model.CreatePredictionEngine<MlpRow, MlpScored>(scorer);
        for (int i = 0; i < rows.Length; i++)
        {
            var prediction = engine.Predict(rows[i]);
            Assert.Equal(rows[i].Id, prediction.Id);
            AssertClose(batch[i].y, prediction.y, 1e-5f);
        }
    }

    [Fact]
    public void SaveThenLoadInAFreshContext_GivesIdenticalOutputs_AndLeavesNoTempFile()
    {
        using var folder = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(ImageRow.Random(20, seed: 4));
        var pipeline = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.VitSmall,
            InputColumnNames = new[] { "Pixels" },
            InputTensorNames = new[] { "image" },
            OutputColumnNames = new[] { "Logits" },
            OutputTensorNames = new[] { "logits" },
            BatchSize = 6,
        });
        var renamed = ml.Transforms.CopyColumns("Pixels", "image").Fit(data).Transform(data);
        using var scorer = pipeline.Fit(renamed);
        var before = renamed.Schema.Count;
        var expected = scorer.Transform(renamed).GetColumn<VBuffer<float>>("Logits").Select(v => v.DenseValues().ToArray()).ToArray();
        string zip = folder.File("model.zip");
        ml.Model.Save(scorer, renamed.Schema, zip);
        var tempBefore = Directory.GetFiles(Path.GetTempPath()).ToHashSet();

        var fresh = new MLContext(seed: 7);
        var loaded = fresh.Model.Load(zip, out var savedSchema);
        using var loadedScorer = Assert.IsType<OnnxScoringTransformer>(loaded);
        var actual = loadedScorer.Transform(renamed).GetColumn<VBuffer<float>>("Logits").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(before, savedSchema.Count);
        Assert.Equal(6, loadedScorer.BatchSize);
        Assert.Equal(new[] { "Pixels" }, loadedScorer.InputColumnNames);
        Assert.Equal(OnnxExecutionProvider.Cpu, loadedScorer.ExecutionProvider);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }

        var newTempFiles = Directory.GetFiles(Path.GetTempPath()).Where(f => !tempBefore.Contains(f)).ToArray();
        Assert.Empty(newTempFiles);
    }

    [Fact]
    public void Dispose_ReleasesTheSession()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(3, seed: 1));
        var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        var view = scorer.Transform(data);

        scorer.Dispose();
        scorer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => scorer.Transform(data));
        Assert.Throws<ObjectDisposedException>(() => view.GetColumn<VBuffer<float>>("y").ToArray());
        Assert.Throws<ObjectDisposedException>(() => scorer.Model.Session);
    }

    internal static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, float tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
