using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using MlNotes.Serving.Sample;
using Xunit;

namespace MlNotes.Serving.Tests;

/// <summary>The pool's rules, one test each, on the bundled ViT (ONNX) and on plain ML.NET models.</summary>
public sealed class PredictionPoolTests : IClassFixture<PredictionPoolTests.VitZip>
{
    private readonly VitZip _vit;

    public PredictionPoolTests(VitZip vit) => _vit = vit;

    [Fact]
    public async Task Concurrent_callers_get_their_own_rows_equal_to_single_row_PredictionEngine_answers()
    {
        var ml = new MLContext();
        using var pool = new PredictionPool<ImageRow, ImagePrediction>(ml, new PredictionPoolOptions { ModelPath = _vit.Zip, MaxBatchSize = 8 });
        var expected = _vit.EngineAnswers;
        var images = Fashion.Images;

        // 8 threads, each scoring all 40 images from its own start: every batch mixes rows of different callers.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            var mine = new (int Image, ImagePrediction Output)[images.Length];
            for (int k = 0; k < images.Length; k++)
            {
                int i = (k + (5 * t)) % images.Length;
                mine[k] = (i, await pool.PredictAsync(new ImageRow { Image = images[i] }));
            }

            return mine;
        })));

        foreach (var (image, output) in results.SelectMany(r => r))
        {
            Assert.Equal(expected[image].PredictedClass, output.PredictedClass);
            // Batched ONNX Runtime runs against batch-1 runs: measured gap 0 (MlNotes batches equal single rows); margin 1e-5.
            Assert.All(expected[image].Score.Zip(output.Score), p => Assert.Equal(p.First, p.Second, 1e-5f));
        }
    }

    [Fact]
    public async Task Calls_that_arrive_while_a_batch_runs_are_scored_together_in_batches_of_at_most_MaxBatchSize()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("gathering");
        var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, new PredictionPoolOptions { MaxBatchSize = 4, MaxDelay = TimeSpan.Zero, MaxConcurrentBatches = 1 }, "gathering", null);
        var held = Task.Run(() => pool.PredictAsync(new GateRow { X = 0, Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        var queued = Enumerable.Range(1, 10).Select(i => pool.PredictAsync(new GateRow { X = i })).ToArray();
        gated.Open();

        Assert.Equal(1, (await held).Y);
        var outputs = await Task.WhenAll(queued);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (2f * i) + 1), outputs.Select(o => o.Y));
        await pool.DisposeAsync();
        Assert.Equal(new[] { 1, 4, 4, 2 }, metrics.BatchSizes());
        Assert.Equal(11, metrics.Values("mlnotes.serving.rows").Sum());
        Assert.Equal(11, metrics.Values("mlnotes.serving.queue_time").Count);
    }

    [Fact]
    public async Task A_call_at_idle_is_scored_at_once_whatever_MaxDelay_and_a_busy_pool_lets_a_batch_fill_for_MaxDelay()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("delay");
        var options = new PredictionPoolOptions { MaxBatchSize = 8, MaxDelay = TimeSpan.FromSeconds(5), MaxConcurrentBatches = 1 };
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, options, "delay", null);

        var watch = Stopwatch.StartNew();
        var idle = pool.PredictAsync(new GateRow { X = 1 });
        Assert.True(idle.IsCompletedSuccessfully, "an idle call was not scored at once on the calling thread");
        Assert.Equal(3, (await idle).Y);
        // Idle: no wait for the batch to fill (MaxDelay is 5 s; a scored row takes milliseconds even on a loaded machine).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"an idle call took {watch.Elapsed}");

        // Busy: while the held row runs, one call queues; the next batch waits for more, until 8 rows fill it.
        var held = Task.Run(() => pool.PredictAsync(new GateRow { X = 0, Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        var first = pool.PredictAsync(new GateRow { X = 1 });
        gated.Open();
        await held;
        await Task.Delay(200);
        Assert.False(first.IsCompleted, "a busy pool scored a one-row batch without waiting for it to fill");
        var rest = Enumerable.Range(2, 7).Select(i => pool.PredictAsync(new GateRow { X = i })).ToArray();
        await Task.WhenAll(rest.Append(first));
        Assert.Equal(new[] { 1, 1, 8 }, metrics.BatchSizes());
    }

    [Fact]
    public async Task Two_batch_slots_score_a_second_call_at_once_while_the_first_is_held_and_later_calls_wait_for_a_free_slot()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("two-slots");
        var options = new PredictionPoolOptions { MaxDelay = TimeSpan.Zero, MaxConcurrentBatches = 2 };
        var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, options, "two-slots", null);
        var first = Task.Run(() => pool.PredictAsync(new GateRow { X = 1, Hold = true })); // slot 1, on its calling thread
        gated.WaitEntered();
        var second = Task.Run(() => pool.PredictAsync(new GateRow { X = 2, Hold = true })); // slot 2 is free: scored at once
        gated.WaitEntered(); // both rows are inside the model at the same time: impossible with one slot
        var queued = Enumerable.Range(3, 3).Select(i => pool.PredictAsync(new GateRow { X = i })).ToArray();
        await Task.Delay(200);
        Assert.All(queued, q => Assert.False(q.IsCompleted, "a call was scored while both slots were busy"));

        gated.Open(); // one held row ends; a worker takes the 3 waiting calls as one batch in the freed slot
        Assert.Equal(new[] { 7f, 9f, 11f }, (await Task.WhenAll(queued)).Select(o => o.Y));
        gated.Open();
        Assert.Equal(new[] { 3f, 5f }, (await Task.WhenAll(first, second)).Select(o => o.Y).Order());
        await pool.DisposeAsync();
        Assert.Equal(new[] { 1, 1, 3 }, metrics.BatchSizes());
        Assert.Empty(metrics.Errors());
    }

    [Fact]
    public async Task Reload_while_two_batches_run_lets_both_finish_on_the_old_model_and_the_next_call_uses_the_new_one()
    {
        var ml = new MLContext();
        using var before = new GatedModel(ml);
        using var after = new GatedModel(ml, slope: 10);
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, before.Model, new PredictionPoolOptions { MaxConcurrentBatches = 2 });
        var a = Task.Run(() => pool.PredictAsync(new GateRow { X = 1, Hold = true }));
        before.WaitEntered();
        var b = Task.Run(() => pool.PredictAsync(new GateRow { X = 2, Hold = true }));
        before.WaitEntered();
        pool.Reload(after.Model);
        before.Open();
        before.Open();
        Assert.Equal(new[] { 3f, 5f }, (await Task.WhenAll(a, b)).Select(o => o.Y).Order());
        Assert.Equal(11, (await pool.PredictAsync(new GateRow { X = 1 })).Y);
    }

    [Fact]
    public async Task Reloads_under_concurrent_load_with_two_slots_answer_every_call_from_one_of_the_models()
    {
        var ml = new MLContext();
        using var a = new GatedModel(ml);
        using var b = new GatedModel(ml, slope: 10);
        using var metrics = new PoolMetricsListener("reload-load");
        var pool = new PredictionPool<GateRow, GateOutput>(ml, a.Model, new PredictionPoolOptions { MaxConcurrentBatches = 2, MaxBatchSize = 8 }, "reload-load", null);
        using var stop = new CancellationTokenSource();
        var reloader = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                pool.Reload(i % 2 == 0 ? b.Model : a.Model);
                Thread.Sleep(1);
            }
        });
        var outputs = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            var mine = new (float X, float Y)[150];
            for (int k = 0; k < mine.Length; k++)
            {
                float x = (t * 1000) + k;
                mine[k] = (x, (await pool.PredictAsync(new GateRow { X = x })).Y);
            }

            return mine;
        })));
        stop.Cancel();
        await reloader;
        await pool.DisposeAsync();
        Assert.All(outputs.SelectMany(o => o), p => Assert.True(p.Y == (2 * p.X) + 1 || p.Y == (10 * p.X) + 1, $"X {p.X} gave {p.Y}"));
        Assert.Empty(metrics.Errors());
    }

    [Fact]
    public async Task A_full_queue_fails_the_next_call_at_once_with_PredictionQueueFullException()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("full");
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, new PredictionPoolOptions { MaxQueueLength = 3, MaxConcurrentBatches = 1 }, "full", null);
        var held = Task.Run(() => pool.PredictAsync(new GateRow { Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        var queued = Enumerable.Range(1, 3).Select(i => pool.PredictAsync(new GateRow { X = i })).ToArray();

        var refused = pool.PredictAsync(new GateRow { X = 9 });
        Assert.True(refused.IsFaulted);
        var e = await Assert.ThrowsAsync<PredictionQueueFullException>(() => refused);
        Assert.Contains("'full' has 3 calls waiting (MaxQueueLength)", e.Message, StringComparison.Ordinal);
        Assert.Throws<PredictionQueueFullException>(() => pool.Predict(new GateRow { X = 9 }));

        gated.Open();
        await held;
        Assert.Equal(new[] { 3f, 5f, 7f }, (await Task.WhenAll(queued)).Select(o => o.Y));
        Assert.Equal(new[] { "queue_full", "queue_full" }, metrics.Errors());
    }

    [Fact]
    public async Task A_cancelled_call_leaves_the_queue_without_touching_the_others()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("cancel");
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, new PredictionPoolOptions { MaxDelay = TimeSpan.Zero, MaxConcurrentBatches = 1 }, "cancel", null);
        var held = Task.Run(() => pool.PredictAsync(new GateRow { Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        using var cancel = new CancellationTokenSource();
        var a = pool.PredictAsync(new GateRow { X = 1 });
        var b = pool.PredictAsync(new GateRow { X = 2 }, cancel.Token);
        var c = pool.PredictAsync(new GateRow { X = 3 });
        cancel.Cancel();
        Assert.True(b.IsCanceled); // at once, while the worker is still busy
        gated.Open();
        await held;
        Assert.Equal(new[] { 3f, 7f }, (await Task.WhenAll(a, c)).Select(o => o.Y));
        Assert.Equal(new[] { 1, 2 }, metrics.BatchSizes()); // b left before its batch formed
        Assert.Empty(metrics.Errors());
        Assert.True(pool.PredictAsync(new GateRow { X = 1 }, new CancellationToken(canceled: true)).IsCanceled);
    }

    [Fact]
    public async Task A_call_cancelled_while_its_batch_runs_completes_as_cancelled_and_the_batch_finishes_for_the_rest()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("cancel-running");
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, new PredictionPoolOptions { MaxDelay = TimeSpan.Zero, MaxConcurrentBatches = 1 }, "cancel-running", null);
        var first = Task.Run(() => pool.PredictAsync(new GateRow { Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        using var cancel = new CancellationTokenSource();
        var x = pool.PredictAsync(new GateRow { X = 1, Hold = true }, cancel.Token);
        var y = pool.PredictAsync(new GateRow { X = 2 });
        gated.Open();
        await first;
        gated.WaitEntered(); // x and y now run as one batch, held on x
        cancel.Cancel();
        Assert.True(x.IsCanceled);
        gated.Open();
        Assert.Equal(5, (await y).Y);
        Assert.Equal(new[] { 1, 2 }, metrics.BatchSizes());
        Assert.Empty(metrics.Errors());
    }

    [Fact]
    public async Task A_bad_row_fails_only_its_caller_on_a_plain_MLNet_model()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var metrics = new PoolMetricsListener("bad-plain");
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, new PredictionPoolOptions { MaxDelay = TimeSpan.Zero, MaxConcurrentBatches = 1 }, "bad-plain", null);
        var held = Task.Run(() => pool.PredictAsync(new GateRow { Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        var calls = new[] { 1f, float.NaN, 3f, 4f }.Select(x => pool.PredictAsync(new GateRow { X = x })).ToArray();
        gated.Open();
        await held;

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => calls[1]);
        Assert.Equal("X is NaN", e.Message);
        Assert.Equal(new[] { 3f, 7f, 9f }, (await Task.WhenAll(calls[0], calls[2], calls[3])).Select(o => o.Y));
        Assert.Equal(new[] { 1, 4 }, metrics.BatchSizes());
        Assert.Equal(new[] { "row" }, metrics.Errors());
    }

    [Fact]
    public async Task A_bad_image_fails_only_its_caller_and_its_batch_neighbours_get_their_answers()
    {
        var ml = new MLContext();
        await using var pool = new PredictionPool<ImageRow, ImagePrediction>(ml, new PredictionPoolOptions { ModelPath = _vit.Zip, MaxBatchSize = 16 });
        var images = Fashion.Images.Take(12).ToArray();
        var rows = images.Select((b, i) => new ImageRow { Image = i == 5 ? Fashion.NotAnImage : b }).ToArray();
        var calls = rows.Select(r => pool.PredictAsync(r)).ToArray();

        var e = await Assert.ThrowsAnyAsync<Exception>(() => calls[5]);
        Assert.Contains("Could not read the image in column 'Image'", e.Message, StringComparison.Ordinal);
        for (int i = 0; i < calls.Length; i++)
        {
            if (i != 5)
            {
                var output = await calls[i];
                Assert.Equal(_vit.EngineAnswers[i].PredictedClass, output.PredictedClass);
                Assert.All(_vit.EngineAnswers[i].Score.Zip(output.Score), p => Assert.Equal(p.First, p.Second, 1e-5f));
            }
        }
    }

    [Fact]
    public async Task A_trained_MLNet_pipeline_scores_in_batches_exactly_as_its_PredictionEngine()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 200).Select(_ => new Regression { A = random.NextSingle(), B = random.NextSingle() }).ToArray();
        foreach (var r in rows)
        {
            r.Label = 1 + (3 * r.A) + (2 * r.B) + (0.1f * random.NextSingle());
        }

        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Concatenate("Features", nameof(Regression.A), nameof(Regression.B))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.Regression.Trainers.LbfgsPoissonRegression()).Fit(data);
        using var engine = ml.Model.CreatePredictionEngine<Regression, RegressionScore>(model);
        await using var pool = new PredictionPool<Regression, RegressionScore>(ml, model, new PredictionPoolOptions { MaxBatchSize = 16 });

        var outputs = await Task.WhenAll(rows.Take(64).Select(r => pool.PredictAsync(r)));
        Assert.Equal(rows.Take(64).Select(r => engine.Predict(r).Score), outputs.Select(o => o.Score));
    }

    [Fact]
    public async Task Reload_swaps_the_model_between_batches_and_the_running_batch_finishes_on_the_old_one()
    {
        var ml = new MLContext();
        using var before = new GatedModel(ml);
        using var after = new GatedModel(ml, slope: 10);
        await using var pool = new PredictionPool<GateRow, GateOutput>(ml, before.Model, new PredictionPoolOptions { MaxConcurrentBatches = 1 });
        var held = Task.Run(() => pool.PredictAsync(new GateRow { X = 1, Hold = true })); // idle: scored on the calling thread, held there
        before.WaitEntered();
        pool.Reload(after.Model);
        var next = pool.PredictAsync(new GateRow { X = 1 });
        before.Open();
        Assert.Equal(3, (await held).Y);
        Assert.Equal(11, (await next).Y);
    }

    [Fact]
    public async Task A_watched_model_file_reloads_when_renamed_over_and_a_corrupt_file_keeps_the_current_model()
    {
        using var folder = new TempFolder();
        string zip = Path.Combine(folder.Path, "served.zip");
        File.Copy(_vit.Zip, zip);
        var ml = new MLContext();
        using var metrics = new PoolMetricsListener("watched");
        await using var pool = new PredictionPool<ImageRow, ImagePrediction>(ml, null, new PredictionPoolOptions { ModelPath = zip, WatchForChanges = true }, "watched", null);
        var row = new ImageRow { Image = Fashion.Images[0] };
        var vit = await pool.PredictAsync(row);
        Assert.Equal(_vit.EngineAnswers[0].Score, vit.Score);

        File.WriteAllText(zip + ".tmp", "not a zip");
        File.Move(zip + ".tmp", zip, overwrite: true);
        await WaitUntil(() => metrics.Errors().Contains("reload"));
        Assert.Equal(vit.Score, (await pool.PredictAsync(row)).Score);

        File.Copy(Fashion.ClassifierZip(_vit.Folder, "resnet-fashion"), zip + ".tmp");
        File.Move(zip + ".tmp", zip, overwrite: true);
        await WaitUntil(async () => !(await pool.PredictAsync(row)).Score.SequenceEqual(vit.Score));
    }

    [Fact]
    public async Task Dispose_scores_every_waiting_call_then_refuses_new_ones_with_ObjectDisposedException()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, new PredictionPoolOptions { MaxConcurrentBatches = 1 });
        var held = Task.Run(() => pool.PredictAsync(new GateRow { Hold = true })); // idle: scored on the calling thread, held there
        gated.WaitEntered();
        var queued = Enumerable.Range(1, 5).Select(i => pool.PredictAsync(new GateRow { X = i })).ToArray();
        var disposing = pool.DisposeAsync().AsTask();
        var late = pool.PredictAsync(new GateRow { X = 1 });
        Assert.False(disposing.IsCompleted);
        gated.Open();
        await disposing;

        Assert.Equal(new[] { 3f, 5f, 7f, 9f, 11f }, (await Task.WhenAll(queued)).Select(o => o.Y));
        var e = await Assert.ThrowsAsync<ObjectDisposedException>(() => late);
        Assert.Contains("is disposed or shutting down", e.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => pool.Predict(new GateRow()));
        Assert.Throws<ObjectDisposedException>(() => pool.Reload(gated.Model));
        pool.Dispose();
        await pool.DisposeAsync();
    }

    [Fact]
    public void Predict_blocks_for_its_own_row_from_many_threads()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model);
        var outputs = new float[200];
        Parallel.For(0, outputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => outputs[i] = pool.Predict(new GateRow { X = i }).Y);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (2f * i) + 1), outputs);
    }

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "the condition never held");
            await Task.Delay(50);
        }
    }

    private static Task WaitUntil(Func<bool> condition) => WaitUntil(() => Task.FromResult(condition()));

    public sealed class Regression
    {
        public float A { get; set; }

        public float B { get; set; }

        public float Label { get; set; }
    }

    public sealed class RegressionScore
    {
        public float Score { get; set; }
    }

    /// <summary>The ViT classifier zip and its single-row PredictionEngine answers for the 40 images, built once.</summary>
    public sealed class VitZip : IDisposable
    {
        public VitZip()
        {
            Folder = new TempFolder();
            Zip = Fashion.ClassifierZip(Folder);
            var ml = new MLContext();
            var model = ml.Model.Load(Zip, out _);
            using var engine = ml.Model.CreatePredictionEngine<ImageRow, ImagePrediction>(model);
            EngineAnswers = Fashion.Images.Select(b => engine.Predict(new ImageRow { Image = b })).ToArray();
            BundledModels.DisposeModel(model);
        }

        internal TempFolder Folder { get; }

        public string Zip { get; }

        public ImagePrediction[] EngineAnswers { get; }

        public void Dispose() => Folder.Dispose();
    }
}
