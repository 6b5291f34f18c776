using System;

namespace MlNotes.Serving;

/// <summary>
/// How a <see cref="PredictionPool{TInput, TOutput}"/> gathers calls into batches, how many it lets wait, and where its model
/// comes from when it loads one itself. The pool copies the values when it is built; later changes do not reach it.
/// </summary>
public sealed class PredictionPoolOptions
{
    /// <summary>The defaults, in one place (each property's docs state its default).</summary>
    internal static class Defaults
    {
        /// <summary>The default <see cref="MaxBatchSize"/>.</summary>
        public const int MaxBatchSize = 32;

        /// <summary>The default <see cref="MaxDelay"/> in milliseconds.</summary>
        public const double MaxDelayMilliseconds = 2;

        /// <summary>The default <see cref="MaxQueueLength"/>.</summary>
        public const int MaxQueueLength = 1024;

        /// <summary>The default <see cref="MaxConcurrentBatches"/>.</summary>
        public const int MaxConcurrentBatches = 1;
    }

    /// <summary>
    /// The most rows scored in one batch (one transform over the gathered rows): 1 to 65,536. Size it from the
    /// benchmark (docs/serving.md): past the batch size where the model's rows/s stop growing, larger batches only add latency.
    /// </summary>
    public int MaxBatchSize { get; set; } = Defaults.MaxBatchSize;

    /// <summary>
    /// How long the oldest waiting call may wait for its batch to fill, from its arrival: 0 to 10 s; zero scores whatever is
    /// waiting as soon as the previous batch ends. A call that arrives while nothing runs and nothing waits is scored at once
    /// whatever this says: low load pays no delay.
    /// </summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(Defaults.MaxDelayMilliseconds);

    /// <summary>
    /// The most calls waiting to be scored (not counting the batch being scored): 1 to 1,048,576. One more fails at once
    /// with <see cref="PredictionQueueFullException"/>.
    /// </summary>
    public int MaxQueueLength { get; set; } = Defaults.MaxQueueLength;

    /// <summary>
    /// How many batches may be scored at the same time: 1 to 64; default 1 (one batch at a time: the fullest batches). With 2,
    /// one batch's rows are read and prepared (images decoded, texts tokenized) and its callers answered while another batch
    /// runs, and a call that finds a slot free and nothing waiting is scored at once even while the other slot runs: on the
    /// 2-core machine measured this helped at moderate concurrency (8 clients) and cost at 32 (docs/serving.md has the figures).
    /// Each slot holds its own view of the model (the ONNX Runtime sessions are shared). Measure on the serving machine.
    /// </summary>
    public int MaxConcurrentBatches { get; set; } = Defaults.MaxConcurrentBatches;

    /// <summary>
    /// The saved model (a zip from <c>mlContext.Model.Save</c>) for a pool that loads its own model; <see langword="null"/>
    /// for a pool built over an <see cref="Microsoft.ML.ITransformer"/>, where setting it is refused. Apply models only from
    /// trusted sources.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// Reload <see cref="ModelPath"/> when the file changes (written or renamed over): calls already waiting or being scored
    /// finish on the model they started with, later batches use the new one; a file that does not load leaves the current
    /// model in place (counted as an error). Only with <see cref="ModelPath"/>.
    /// </summary>
    public bool WatchForChanges { get; set; }

    internal PredictionPoolOptions Validated(bool hasModel)
    {
        if (MaxBatchSize is < 1 or > 65_536)
        {
            ThrowHelper.BadOption(nameof(MaxBatchSize), $"MaxBatchSize must be between 1 and 65536; got {MaxBatchSize}.");
        }

        if (MaxDelay < TimeSpan.Zero || MaxDelay > TimeSpan.FromSeconds(10))
        {
            ThrowHelper.BadOption(nameof(MaxDelay), $"MaxDelay must be between 0 and 10 s; got {MaxDelay}.");
        }

        if (MaxQueueLength is < 1 or > 1_048_576)
        {
            ThrowHelper.BadOption(nameof(MaxQueueLength), $"MaxQueueLength must be between 1 and 1048576; got {MaxQueueLength}.");
        }

        if (MaxConcurrentBatches is < 1 or > 64)
        {
            ThrowHelper.BadOption(nameof(MaxConcurrentBatches), $"MaxConcurrentBatches must be between 1 and 64; got {MaxConcurrentBatches}.");
        }

        if (hasModel && ModelPath != null)
        {
            ThrowHelper.BadOption(nameof(ModelPath), $"ModelPath ('{ModelPath}') is for a pool that loads its own model; this pool was given a model: leave ModelPath null, or build the pool from the options alone.");
        }

        if (!hasModel && string.IsNullOrWhiteSpace(ModelPath))
        {
            ThrowHelper.BadOption(nameof(ModelPath), "ModelPath must name a saved model (a zip from mlContext.Model.Save) when the pool is not given a model.");
        }

        if (hasModel && WatchForChanges)
        {
            ThrowHelper.BadOption(nameof(WatchForChanges), "WatchForChanges needs ModelPath (a pool given a model has no file to watch; call Reload(model) instead).");
        }

        return new PredictionPoolOptions
        {
            MaxBatchSize = MaxBatchSize,
            MaxDelay = MaxDelay,
            MaxQueueLength = MaxQueueLength,
            MaxConcurrentBatches = MaxConcurrentBatches,
            ModelPath = ModelPath == null ? null : System.IO.Path.GetFullPath(ModelPath),
            WatchForChanges = WatchForChanges,
        };
    }
}
