using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MlNotes.Serving.Sample;

/// <summary>
/// A minimal API over two prediction pools: POST /classify (an image body) with the ViT classifier, POST /embed
/// (<c>{"texts": [...]}</c>) with the text encoder, GET /health; and the baseline the benchmark compares with, the same
/// endpoints served by pooled single-row PredictionEngines under /baseline/.
/// </summary>
/// <remarks>
/// Settings (appsettings.json, environment <c>Serving__MaxBatchSize</c>, or <c>--Serving:MaxBatchSize=</c>): Classifier (the
/// graph, vit-fashion), ModelFolder (where the zips are written and watched), MaxBatchSize, MaxDelayMs, MaxQueueLength, MaxConcurrentBatches.
/// </remarks>
public static class ServingApp
{
    /// <summary>The pools' names: service keys and metric tags.</summary>
    public const string ClassifierName = "classifier";

    /// <summary>The text encoder pool's name.</summary>
    public const string EncoderName = "encoder";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var settings = builder.Configuration.GetSection("Serving");
        string folder = settings["ModelFolder"] ?? Path.Combine(AppContext.BaseDirectory, "served-models");
        Directory.CreateDirectory(folder);
        string classifierZip = Path.Combine(folder, "classifier.zip");
        string encoderZip = Path.Combine(folder, "encoder.zip");

        // A zip already there is served as it is (replace it to reload); a missing one is built from the bundled graph.
        if (!File.Exists(classifierZip))
        {
            BundledModels.SaveClassifier(settings["Classifier"] ?? "vit-fashion", classifierZip);
        }

        if (!File.Exists(encoderZip))
        {
            BundledModels.SaveTextEncoder("text-fortunes", encoderZip);
        }

        PredictionPoolOptions Pool(string zip)
        {
            var defaults = new PredictionPoolOptions();
            return new()
            {
                ModelPath = zip,
                WatchForChanges = true,
                MaxBatchSize = settings.GetValue("MaxBatchSize", defaults.MaxBatchSize),
                MaxDelay = TimeSpan.FromMilliseconds(settings.GetValue("MaxDelayMs", defaults.MaxDelay.TotalMilliseconds)),
                MaxQueueLength = settings.GetValue("MaxQueueLength", defaults.MaxQueueLength),
                MaxConcurrentBatches = settings.GetValue("MaxConcurrentBatches", defaults.MaxConcurrentBatches),
            };
        }

        builder.Services.AddMlNotesPredictionPool<ImageRow, ImagePrediction>(ClassifierName, Pool(classifierZip));
        builder.Services.AddMlNotesPredictionPool<TextRow, TextEmbedding>(EncoderName, Pool(encoderZip));
        bool baseline = settings.GetValue("Baseline", true);
        if (baseline)
        {
            builder.Services.AddSingleton(_ => new EnginePool<ImageRow, ImagePrediction>(classifierZip));
            builder.Services.AddSingleton(_ => new EnginePool<TextRow, TextEmbedding>(encoderZip));
        }

        builder.Services.AddHealthChecks();
        var app = builder.Build();

        app.MapPost("/classify", async (HttpRequest request, [FromKeyedServices(ClassifierName)] PredictionPool<ImageRow, ImagePrediction> pool, CancellationToken cancel) =>
        {
            var row = new ImageRow { Image = await ReadBody(request, cancel) };
            return await Answer(async () => Classified(await pool.PredictAsync(row, cancel)));
        });
        app.MapPost("/embed", async (EmbedRequest body, [FromKeyedServices(EncoderName)] PredictionPool<TextRow, TextEmbedding> pool, CancellationToken cancel) =>
            await Answer(async () =>
            {
                var rows = await Task.WhenAll((body.Texts ?? []).Select(t => pool.PredictAsync(new TextRow { Text = t }, cancel)));
                return Results.Ok(new EmbedResponse(rows.Select(r => r.Embedding).ToArray()));
            }));
        app.MapHealthChecks("/health");
        if (baseline)
        {
            MapBaseline(app);
        }

        return app;
    }

    private static void MapBaseline(WebApplication app)
    {
        app.MapPost("/baseline/classify", async (HttpRequest request, EnginePool<ImageRow, ImagePrediction> engines, CancellationToken cancel) =>
        {
            var row = new ImageRow { Image = await ReadBody(request, cancel) };
            return await Answer(() => Task.FromResult(Classified(engines.Predict(row))));
        });
        app.MapPost("/baseline/embed", (EmbedRequest body, EnginePool<TextRow, TextEmbedding> engines) =>
            Answer(() => Task.FromResult(Results.Ok(new EmbedResponse((body.Texts ?? []).Select(t => engines.Predict(new TextRow { Text = t }).Embedding).ToArray())))));
    }

    private static IResult Classified(ImagePrediction p) => Results.Ok(new ClassifyResponse(p.PredictedClass, p.Score));

    private static async Task<byte[]> ReadBody(HttpRequest request, CancellationToken cancel)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancel);
        return buffer.ToArray();
    }

    /// <summary>The pool's documented failures as HTTP: a full queue or a stopping server is 503, a row that cannot be scored 400.</summary>
    private static async Task<IResult> Answer(Func<Task<IResult>> predict)
    {
        try
        {
            return await predict();
        }
        catch (PredictionQueueFullException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (ObjectDisposedException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (OperationCanceledException)
        {
            return Results.StatusCode(499);
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or FormatException or ArgumentException)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
