using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;

namespace MlNotes.Serving;

/// <summary>
/// A thread-safe predictor that gathers concurrent calls into batches: each batch is scored with one transform over the
/// gathered rows (for an MlNotes ONNX model, one ONNX Runtime run per batch), and each caller gets its own row's output.
/// The safe, batched replacement of a shared <see cref="PredictionEngine{TSrc, TDst}"/> in a web API.
/// </summary>
/// <remarks>
/// <para>Policy (docs/serving.md): at most <see cref="PredictionPoolOptions.MaxConcurrentBatches"/> batches are scored at a
/// time. A call that arrives while a batch slot is free and nothing waits is scored at once, on the calling thread (so
/// <see cref="PredictAsync"/> then completes before it returns, as a <see cref="PredictionEngine{TSrc, TDst}"/> would). Calls that
/// arrive while every slot is busy wait; the next batch takes up to <see cref="PredictionPoolOptions.MaxBatchSize"/> of them,
/// waiting for more at most until the oldest has waited <see cref="PredictionPoolOptions.MaxDelay"/>. At most <see cref="PredictionPoolOptions.MaxQueueLength"/> calls wait; one
/// more fails at once with <see cref="PredictionQueueFullException"/>. A cancelled call leaves the queue (or, when its batch
/// already runs, gets no result) without affecting the others. When a batch fails, its rows are scored one by one, so an
/// exception for one row (an unreadable image) fails that call only.</para>
/// <para>Any ML.NET <see cref="ITransformer"/> that maps each row to one row works, ONNX-backed or not. Apply models only
/// from trusted sources.</para>
/// </remarks>
/// <typeparam name="TInput">The input row class (as for <see cref="PredictionEngine{TSrc, TDst}"/>).</typeparam>
/// <typeparam name="TOutput">The output row class.</typeparam>
public sealed partial class PredictionPool<TInput, TOutput> : IDisposable, IAsyncDisposable
    where TInput : class
    where TOutput : class, new()
{
    private readonly object _gate = new();
    private readonly LinkedList<PendingCall<TInput, TOutput>> _queue = new();
    private readonly PredictionPoolOptions _options;
    private readonly MLContext _ml;
    private readonly string _name;
    private readonly PoolMetrics _metrics;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ModelFileWatcher? _watcher;
    private ScorerSet<TInput, TOutput> _current;
    private ScorerSet<TInput, TOutput>? _next;
    private bool _closing;
    private int _running;
    private bool _filling;
    private bool _backlog;
    private int _workers;

    /// <summary>A pool over <paramref name="model"/>, which the caller keeps owning (dispose it after the pool).</summary>
    /// <param name="mlContext">The context the pool builds its views and engines with.</param>
    /// <param name="model">The model: any transformer that maps each row to one row.</param>
    /// <param name="options">Batching and queue limits; <see cref="PredictionPoolOptions.ModelPath"/> must be unset.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or does not apply.</exception>
    public PredictionPool(MLContext mlContext, ITransformer model, PredictionPoolOptions? options = null)
        : this(mlContext, model ?? throw new ArgumentNullException(nameof(model)), options ?? new PredictionPoolOptions(), null, null)
    {
    }

    /// <summary>A pool that loads its model from <see cref="PredictionPoolOptions.ModelPath"/> and owns it.</summary>
    /// <param name="mlContext">The context that loads the model (its device settings apply) and builds the pool's views.</param>
    /// <param name="options">The model file, whether to watch it, batching and queue limits.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or <see cref="PredictionPoolOptions.ModelPath"/> is unset.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The model file does not exist.</exception>
    public PredictionPool(MLContext mlContext, PredictionPoolOptions options)
        : this(mlContext, null, options ?? throw new ArgumentNullException(nameof(options)), null, null)
    {
    }

    internal PredictionPool(MLContext mlContext, ITransformer? model, PredictionPoolOptions options, string? name, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        _options = options.Validated(hasModel: model != null);
        _ml = mlContext;
        _name = name ?? (_options.ModelPath != null ? System.IO.Path.GetFileNameWithoutExtension(_options.ModelPath) : typeof(TOutput).Name);
        _current = model != null ? new ScorerSet<TInput, TOutput>(_ml, model, ownsModel: false) : LoadScorer();
        _metrics = new PoolMetrics(_name, meterFactory, () => QueueLength);
        _workers = _options.MaxConcurrentBatches;
        for (int i = 0; i < _options.MaxConcurrentBatches; i++)
        {
            new Thread(Work) { IsBackground = true, Name = $"MlNotes.PredictionPool {_name} #{i + 1}" }.Start();
        }
        if (_options.WatchForChanges)
        {
            _watcher = new ModelFileWatcher(_options.ModelPath!, ReloadFromFile);
        }
    }

    private int QueueLength
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Scores <paramref name="input"/> in the next batch and blocks until its output is ready.</summary>
    /// <param name="input">The row; the pool reads it until the call completes, so do not change it meanwhile.</param>
    /// <returns>This row's output, a new object.</returns>
    /// <exception cref="PredictionQueueFullException"><see cref="PredictionPoolOptions.MaxQueueLength"/> calls are waiting.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed or shutting down.</exception>
    public TOutput Predict(TInput input) => PredictAsync(input, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Scores <paramref name="input"/> in the next batch.</summary>
    /// <param name="input">The row; the pool reads it until the task completes, so do not change it meanwhile.</param>
    /// <param name="cancellationToken">Cancels the call: it leaves the queue, or its result is dropped if its batch runs.</param>
    /// <returns>This row's output, a new object. The task fails with the row's own exception when the row cannot be scored,
    /// at once with <see cref="PredictionQueueFullException"/> when the queue is full, and with
    /// <see cref="ObjectDisposedException"/> once the pool is disposed.</returns>
    public Task<TOutput> PredictAsync(TInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TOutput>(cancellationToken);
        }

        var call = new PendingCall<TInput, TOutput>(input);
        (ScorerSet<TInput, TOutput> Set, ScorerSet<TInput, TOutput>? Retired)? scorer = null;
        if (cancellationToken.CanBeCanceled)
        {
            // Registered before the call is queued, so the worker never sees a registration being written.
            call.Registration = cancellationToken.Register(static (state, token) => ((PredictionPool<TInput, TOutput>)((object[])state!)[0]).Cancel((PendingCall<TInput, TOutput>)((object[])state)[1], token), new object[] { this, call });
        }

        lock (_gate)
        {
            if (_closing)
            {
                call.Registration.Dispose();
                return Task.FromException<TOutput>(ThrowHelper.Disposed(_name));
            }

            if (_queue.Count >= _options.MaxQueueLength)
            {
                call.Registration.Dispose();
                _metrics.Error("queue_full");
                return Task.FromException<TOutput>(ThrowHelper.QueueFull(_name, _options.MaxQueueLength));
            }

            if (call.Task.IsCompleted)
            {
                return call.Task;
            }

            if (_running < _options.MaxConcurrentBatches && _queue.Count == 0 && !_filling)
            {
                // A free batch slot and nothing waiting: the caller scores its own row at once, on its own thread, as a
                // PredictionEngine would: no hand-off to a worker and back, no delay.
                _running++;
                scorer = StartBatch();
            }
            else
            {
                call.Node = _queue.AddLast(call);
                if (_filling)
                {
                    Monitor.PulseAll(_gate); // the worker filling a batch takes it
                }
                else
                {
                    Monitor.Pulse(_gate);
                }
            }
        }

        if (scorer is { } started)
        {
            RunBatch(started.Set, started.Retired, [call], new List<TInput>(1));
        }

        return call.Task;
    }

    /// <summary>Refuses new calls, scores every call already waiting, then releases the model (blocking until done).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Refuses new calls (<see cref="ObjectDisposedException"/>), scores every call already waiting, then releases the model.</summary>
    /// <returns>Completes when the queue is drained and the model released.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }

        _watcher?.Dispose();
        await _stopped.Task.ConfigureAwait(false);
    }

    private void Cancel(PendingCall<TInput, TOutput> call, CancellationToken token)
    {
        lock (_gate)
        {
            if (call.Node != null)
            {
                _queue.Remove(call.Node);
                call.Node = null;
            }
        }

        call.TrySetCanceled(token);
    }
}
