using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using MlNotes.Serving.Sample;
using Xunit;

namespace MlNotes.Serving.Tests;

/// <summary>The sample over the real ASP.NET Core pipeline (WebApplicationFactory): answers, 503, cancellation, bad rows, reload.</summary>
public sealed class ServingEndpointTests
{
    private static readonly System.Text.Json.JsonSerializerOptions s_web = new(System.Text.Json.JsonSerializerDefaults.Web);

    [Fact]
    public async Task Concurrent_clients_get_exactly_their_own_answers_and_health_is_up()
    {
        using var factory = new ServingFactory(("Serving:MaxBatchSize", "8"));
        using var client = factory.CreateClient();
        Assert.Equal("Healthy", await client.GetStringAsync(new Uri("/health", UriKind.Relative)));
        var expected = ServingFactory.EngineAnswers(factory.ClassifierZip);

        // 16 clients, each posting the 40 images from its own start.
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(c => Task.Run(async () =>
            await Task.WhenAll(Enumerable.Range(0, 10).Select(async k =>
            {
                int i = ((3 * c) + k) % Fashion.Images.Length;
                return (i, await Classify(client, Fashion.Images[i]));
            })))));
        foreach (var (image, answer) in answers.SelectMany(a => a))
        {
            Assert.Equal(expected[image].PredictedClass, answer.Label);
            // JSON carries floats in their shortest round-trip form; batched and batch-1 runs measured equal; margin 1e-5.
            Assert.All(expected[image].Score.Zip(answer.Scores), p => Assert.Equal(p.First, p.Second, 1e-5f));
        }

        var texts = new[] { "a computer program", "a cookie", "politics is the art of the possible", "work" };
        var embedded = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await client.PostAsJsonAsync(new Uri("/embed", UriKind.Relative), new EmbedRequest(texts));
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<EmbedResponse>())!;
        }));
        var ml = new MLContext();
        var encoder = ml.Model.Load(Path.Combine(factory.ModelFolder, "encoder.zip"), out _);
        using (var engine = ml.Model.CreatePredictionEngine<TextRow, TextEmbedding>(encoder))
        {
            for (int t = 0; t < texts.Length; t++)
            {
                var single = engine.Predict(new TextRow { Text = texts[t] }).Embedding;
                // Padded batches against one unpadded row: measured gap below 1e-6; margin 1e-5.
                Assert.All(embedded, e => Assert.All(single.Zip(e.Embeddings[t]), p => Assert.Equal(p.First, p.Second, 1e-5f)));
            }
        }

        BundledModels.DisposeModel(encoder);

        // Shutdown: the container disposes the pools after the server stops (disposing drains their queues). The app's own
        // entry point (app.Run) also disposes the host when the factory stops it, on its own thread; whichever of the two reaches
        // the container first disposes it and the other returns at once, so the factory's DisposeAsync can return before the
        // pool is disposed (CI saw it once). Wait for it, within a bound.
        var pool = factory.Services.GetRequiredKeyedService<PredictionPool<ImageRow, ImagePrediction>>(ServingApp.ClassifierName);
        await factory.DisposeAsync();
        Assert.True(await DisposedWithin(pool, TimeSpan.FromSeconds(30)), "the container never disposed the classifier pool");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pool.PredictAsync(new ImageRow { Image = Fashion.Images[0] }));
    }

    private static async Task<bool> DisposedWithin(PredictionPool<ImageRow, ImagePrediction> pool, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound)
        {
            try
            {
                await pool.PredictAsync(new ImageRow { Image = Fashion.Images[0] });
            }
            catch (ObjectDisposedException)
            {
                return true;
            }

            await Task.Delay(20);
        }

        return false;
    }

    [Fact]
    public async Task A_full_queue_answers_503_and_every_accepted_request_its_own_answer()
    {
        using var factory = new ServingFactory(("Serving:MaxQueueLength", "1"), ("Serving:MaxBatchSize", "1"));
        using var client = factory.CreateClient();
        var expected = ServingFactory.EngineAnswers(factory.ClassifierZip);

        // Bursts of 48 requests released together. With one batch running and one call queued, a third concurrent call must get
        // 503; on a busy 2-core CI machine a burst once never had three calls in flight at a time (the thread pool starts
        // them a few at a time), so up to 10 bursts are sent until one 503 is seen. Every response of every burst is checked.
        var responses = new List<(int, HttpStatusCode StatusCode, ClassifyResponse?, string)>();
        for (int burst = 0; burst < 10 && !responses.Any(r => r.StatusCode == HttpStatusCode.ServiceUnavailable); burst++)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sent = Enumerable.Range(0, 48).Select(i => Task.Run(async () =>
            {
                await start.Task;
                using var content = new ByteArrayContent(Fashion.Images[i % 40]);
                using var response = await client.PostAsync(new Uri("/classify", UriKind.Relative), content);
                return (i % 40, response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<ClassifyResponse>() : null,
                    await response.Content.ReadAsStringAsync());
            })).ToArray();
            start.SetResult();
            responses.AddRange(await Task.WhenAll(sent));
        }

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{r.StatusCode}: {r.Item4}"));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Contains("MaxQueueLength", responses.First(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).Item4, StringComparison.Ordinal);
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.OK), r => Assert.Equal(expected[r.Item1].Score, r.Item3!.Scores));
    }

    [Fact]
    public async Task Cancelled_requests_do_not_poison_their_batches_and_a_bad_image_fails_only_its_request()
    {
        using var factory = new ServingFactory(("Serving:MaxBatchSize", "16"), ("Serving:MaxDelayMs", "5"));
        using var client = factory.CreateClient();
        var expected = ServingFactory.EngineAnswers(factory.ClassifierZip);
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            // Every fifth request is cancelled by its client right after it is sent; request 7 is not an image.
            using var cancel = new CancellationTokenSource();
            if (i % 5 == 0)
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(1));
            }

            try
            {
                using var content = new ByteArrayContent(i == 7 ? Fashion.NotAnImage : Fashion.Images[i]);
                using var response = await client.PostAsync(new Uri("/classify", UriKind.Relative), content, cancel.Token);
                return (i, response.StatusCode, await response.Content.ReadAsStringAsync(cancel.Token));
            }
            catch (OperationCanceledException)
            {
                return (i, (HttpStatusCode)499, "");
            }
        })));

        foreach (var (i, status, body) in results)
        {
            if (i == 7)
            {
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.Contains("Could not read the image in column 'Image'", body, StringComparison.Ordinal);
            }
            else if (i % 5 != 0 || status == HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                var answer = System.Text.Json.JsonSerializer.Deserialize<ClassifyResponse>(body, s_web)!;
                Assert.Equal(expected[i].Score, answer.Scores);
            }
        }
    }

    [Fact]
    public async Task Replacing_the_model_file_under_load_loses_no_request()
    {
        using var factory = new ServingFactory(("Serving:MaxBatchSize", "8"));
        using var client = factory.CreateClient();
        var vit = ServingFactory.EngineAnswers(factory.ClassifierZip);
        using var other = new TempFolder();
        string resnetZip = Fashion.ClassifierZip(other, "resnet-fashion");
        var resnet = ServingFactory.EngineAnswers(resnetZip);

        var failures = new ConcurrentQueue<string>();
        int served = 0, fromResnet = 0;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (int k = 0; !stop.IsCancellationRequested; k++)
            {
                int i = ((7 * c) + k) % 40;
                using var content = new ByteArrayContent(Fashion.Images[i]);
                using var response = await client.PostAsync(new Uri("/classify", UriKind.Relative), content);
                if (!response.IsSuccessStatusCode)
                {
                    failures.Enqueue($"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    continue;
                }

                var scores = (await response.Content.ReadFromJsonAsync<ClassifyResponse>())!.Scores;
                if (scores.SequenceEqual(resnet[i].Score))
                {
                    Interlocked.Increment(ref fromResnet);
                }
                else if (!scores.SequenceEqual(vit[i].Score))
                {
                    failures.Enqueue($"image {i}: an answer of neither model");
                }

                Interlocked.Increment(ref served);
            }
        })).ToArray();

        var warm = Stopwatch.StartNew();
        while (Volatile.Read(ref served) < 40 && warm.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(20);
        }

        int before = Volatile.Read(ref served);
        File.Copy(resnetZip, factory.ClassifierZip + ".new");
        File.Move(factory.ClassifierZip + ".new", factory.ClassifierZip, overwrite: true);
        var watch = Stopwatch.StartNew();
        while (Volatile.Read(ref fromResnet) < 20 && watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }

        stop.Cancel();
        await Task.WhenAll(clients);
        Assert.Empty(failures);
        Assert.True(before >= 40, $"only {before} requests were served before the reload");
        Assert.True(fromResnet >= 20, $"the new model never answered ({served} requests served)");
    }

    private static async Task<ClassifyResponse> Classify(HttpClient client, byte[] image)
    {
        using var content = new ByteArrayContent(image);
        using var response = await client.PostAsync(new Uri("/classify", UriKind.Relative), content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ClassifyResponse>())!;
    }
}
