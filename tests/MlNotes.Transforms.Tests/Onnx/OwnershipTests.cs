using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>
/// Who owns a session, and what misuse does: every Fit returns its own transformer, disposing one never frees memory another
/// user still runs, and use after dispose throws <see cref="ObjectDisposedException"/> naming the component.
/// </summary>
public sealed class OwnershipTests
{
    [Fact]
    public void EveryFit_ReturnsItsOwnTransformer_AndDisposingOneLeavesTheOthersWorking()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(10, seed: 3));
        var estimator = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp);
        var first = estimator.Fit(data);
        using var second = estimator.Fit(data);
        Assert.NotSame(first, second);
        var expected = Scores(first.Transform(data));

        first.Dispose();

        Assert.Equal(expected, Scores(second.Transform(data)));
        using var third = estimator.Fit(data); // cross-validation fits again after disposing a fold's model
        Assert.Equal(expected, Scores(third.Transform(data)));
        var disposed = Assert.Throws<ObjectDisposedException>(() => first.Transform(data));
        Assert.Contains(nameof(OnnxScoringTransformer), disposed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FitsOfOneEstimator_ShareOneSession_WhileAnyOfThemHoldsIt_AndTheEstimatorHoldsNone()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(10, seed: 3));
        var estimator = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp);
        var first = estimator.Fit(data);
        var second = estimator.Fit(data);
        Assert.Same(first.Model.Session, second.Model.Session); // cross-validation's folds: one session, not one per fold
        var expected = Scores(first.Transform(data));
        Assert.Equal(1, first.RunCount); // counted per transformer, not per session
        Assert.Equal(0, second.RunCount);
        var session = first.Model.Session;

        first.Dispose();
        using var third = estimator.Fit(data); // joins the session the second still holds
        Assert.Same(session, third.Model.Session);
        second.Dispose();
        Assert.Equal(expected, Scores(third.Transform(data)));

        third.Dispose(); // the last owner: the session is freed, and the estimator kept no reference to it
        using var fourth = estimator.Fit(data);
        Assert.NotSame(session, fourth.Model.Session);
        Assert.Equal(expected, Scores(fourth.Transform(data)));
    }

    [Fact]
    public void Dispose_IsIdempotent_AndEveryUseAfterItThrowsNamingTheComponent()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(4, seed: 3));
        var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        var view = scorer.Transform(data);
        scorer.Dispose();
        scorer.Dispose();

        foreach (var use in new Action[]
        {
            () => scorer.Transform(data),
            () => scorer.GetRowToRowMapper(data.Schema),
            () => _ = view.GetColumn<VBuffer<float>>("y").ToArray(),
            () => ml.Model.CreatePredictionEngine<MlpRow, MlpScored>(scorer),
        })
        {
            var e = Assert.Throws<ObjectDisposedException>(use);
            Assert.Equal(nameof(OnnxScoringTransformer), e.ObjectName);
        }
    }

    [Fact]
    public async Task AnEngineDisposingItsTransformer_LeavesTheEnginesRunningOnOtherThreadsValid()
    {
        var ml = new MLContext(seed: 1);
        var rows = MlpRow.Random(8, seed: 5);
        var data = ml.Data.LoadFromEnumerable(rows);
        // One ORT thread per engine: two engines on two cores, without intra-op threads spinning against each other.
        var model = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options { ModelFile = TestModels.Mlp, IntraOpNumThreads = 1 }).Fit(data);
        var expected = Scores(model.Transform(data));
        var engines = Enumerable.Range(0, 3).Select(_ => ml.Model.CreatePredictionEngine<MlpRow, MlpScored>(model)).ToArray();
        using var started = new CountdownEvent(2);
        using var disposed = new ManualResetEventSlim();
        var runners = engines.Skip(1).Select(engine => Task.Run(() =>
        {
            started.Signal();
            int predictions = 0;
            // Keep predicting while the first engine (which owns the transformer, ML.NET's default) is disposed, and after.
            for (int round = 0; round < 100 || !disposed.IsSet; round++)
            {
                var row = rows[round % rows.Length];
                Assert.Equal(expected[round % rows.Length], engine.Predict(row).y);
                predictions++;
            }

            return predictions;
        })).ToArray();

        started.Wait();
        engines[0].Dispose(); // disposes the transformer it was made on (ML.NET's default): the other engines and the creator keep it
        disposed.Set();
        Assert.All(await Task.WhenAll(runners), n => Assert.True(n >= 100));
        Assert.Equal(expected, Scores(model.Transform(data)));
        foreach (var engine in engines.Skip(1))
        {
            Assert.Equal(expected[0], engine.Predict(rows[0]).y);
            engine.Dispose();
        }

        model.Dispose(); // the last owner
        Assert.Throws<ObjectDisposedException>(() => model.Transform(data));
        Assert.Throws<ObjectDisposedException>(() => model.Model.Session);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UsingAnEngineInALoop_LeavesTheModelToItsCreator(bool engineOwnsTheModel)
    {
        var ml = new MLContext(seed: 1);
        var rows = MlpRow.Random(6, seed: 2);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var model = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        var expected = Scores(model.Transform(data));
        for (int i = 0; i < rows.Length; i++)
        {
            // The pattern of a request handler: an engine per request, disposed at the end of it.
            using var engine = ml.Model.CreatePredictionEngine<MlpRow, MlpScored>(model, new PredictionEngineOptions { OwnsTransformer = engineOwnsTheModel });
            Assert.Equal(expected[i], engine.Predict(rows[i]).y);
        }

        Assert.Equal(expected, Scores(model.Transform(data)));
    }

    [Fact]
    public void DisposingTheTransformer_WhileACursorIsOpen_LetsTheCursorFinish()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(50, seed: 4));
        var scorer = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options { ModelFile = TestModels.Mlp, BatchSize = 8 }).Fit(data);
        var expected = Scores(scorer.Transform(data));
        var view = scorer.Transform(data);
        var column = view.Schema["y"];
        int rowsRead = 0;
        using (var cursor = view.GetRowCursor(new[] { column }))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                if (rowsRead == 3)
                {
                    scorer.Dispose(); // the cursor's batches hold the session until the cursor is disposed
                }

                getter(ref value);
                Assert.Equal(expected[rowsRead], value.DenseValues().ToArray());
                rowsRead++;
            }
        }

        Assert.Equal(50, rowsRead);
        Assert.Throws<ObjectDisposedException>(() => scorer.Transform(data));
    }

    private static float[][] Scores(IDataView view)
        => view.GetColumn<VBuffer<float>>("y").Select(v => v.DenseValues().ToArray()).ToArray();
}
