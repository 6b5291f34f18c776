using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace MlNotes.Serving;

/// <summary>The batch slots: the worker threads that form batches, and the scoring of one batch (on a worker or a caller's thread).</summary>
public sealed partial class PredictionPool<TInput, TOutput>
{
    private void Work()
    {
        var batch = new List<PendingCall<TInput, TOutput>>(_options.MaxBatchSize);
        var inputs = new List<TInput>(_options.MaxBatchSize);
        long delayTicks = (long)(_options.MaxDelay.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (true)
            {
                (ScorerSet<TInput, TOutput> Set, ScorerSet<TInput, TOutput>? Retired) scorer;
                lock (_gate)
                {
                    // A batch starts when calls wait, a batch slot is free and no other worker is still filling one.
                    while ((_queue.Count == 0 || _running >= _options.MaxConcurrentBatches || _filling) && !(_closing && _queue.Count == 0))
                    {
                        Monitor.Wait(_gate);
                    }

                    if (_queue.Count == 0)
                    {
                        break; // closing and drained
                    }

                    _running++;
                    Take(batch);

                    // Busy (calls were waiting when the last batch ended): let the batch fill until the oldest call has
                    // waited MaxDelay. Otherwise score at once.
                    if (_backlog && delayTicks > 0)
                    {
                        _filling = true;
                        long deadline = batch.Count > 0 ? batch[0].Arrived + delayTicks : 0;
                        while (batch.Count < _options.MaxBatchSize && !_closing)
                        {
                            long left = deadline - Stopwatch.GetTimestamp();
                            if (left <= 0)
                            {
                                break;
                            }

                            if (_queue.Count == 0)
                            {
                                Monitor.Wait(_gate, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                            }

                            Take(batch);
                        }

                        _filling = false;
                    }

                    scorer = StartBatch();
                }

                RunBatch(scorer.Set, scorer.Retired, batch, inputs);
                batch.Clear();
            }
        }
        finally
        {
            bool last;
            lock (_gate)
            {
                // The last worker to leave waits for batches still running (callers' own), then releases the model.
                last = --_workers == 0;
                while (last && _running > 0)
                {
                    Monitor.Wait(_gate);
                }
            }

            if (last)
            {
                _current.Retire();
                _next?.Retire();
                _metrics.Dispose();
                _stopped.TrySetResult();
            }
        }
    }

    /// <summary>Under the lock, with a batch slot taken: the model for the batch (after a pending reload), reserved for it, and the set it replaced.</summary>
    private (ScorerSet<TInput, TOutput> Set, ScorerSet<TInput, TOutput>? Retired) StartBatch()
    {
        ScorerSet<TInput, TOutput>? retired = null;
        if (_next != null)
        {
            retired = _current;
            _current = _next;
            _next = null;
        }

        _current.Reserve();
        return (_current, retired);
    }

    private void RunBatch(ScorerSet<TInput, TOutput> set, ScorerSet<TInput, TOutput>? retired, List<PendingCall<TInput, TOutput>> batch, List<TInput> inputs)
    {
        try
        {
            // Released now, or by its last running batch.
            retired?.Retire();
            if (batch.Count == 0)
            {
                set.Release(null); // every call taken had been cancelled
            }
            else
            {
                BatchScorer<TInput, TOutput> scorer;
                try
                {
                    scorer = set.Take();
                }
                catch (Exception e)
                {
                    foreach (var call in batch)
                    {
                        _metrics.Error("row");
                        call.Fail(e);
                    }

                    return;
                }

                try
                {
                    Score(scorer, batch, inputs);
                }
                finally
                {
                    set.Release(scorer);
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _running--;
                _backlog = _queue.Count > 0;
                if (_backlog || _closing)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    private void Take(List<PendingCall<TInput, TOutput>> batch)
    {
        while (batch.Count < _options.MaxBatchSize && _queue.First is { } node)
        {
            _queue.RemoveFirst();
            node.Value.Node = null;
            if (!node.Value.Task.IsCompleted)
            {
                batch.Add(node.Value);
            }
        }
    }

    private void Score(BatchScorer<TInput, TOutput> scorer, List<PendingCall<TInput, TOutput>> batch, List<TInput> inputs)
    {
        long start = Stopwatch.GetTimestamp();
        inputs.Clear();
        foreach (var call in batch)
        {
            _metrics.QueueTime(Stopwatch.GetElapsedTime(call.Arrived, start));
            inputs.Add(call.Input);
        }

        _metrics.Batch(batch.Count);
        List<TOutput>? outputs = null;
        Exception? single = null;
        try
        {
            outputs = scorer.ScoreBatch(inputs);
        }
        catch (Exception e)
        {
            single = e;
        }

        if (outputs != null)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Complete(outputs[i]);
            }

            return;
        }

        if (batch.Count == 1)
        {
            _metrics.Error("row");
            batch[0].Fail(single!);
            return;
        }

        // The batch failed: score its rows one by one, so that only the rows that fail fail their callers.
        foreach (var call in batch)
        {
            if (call.Task.IsCompleted)
            {
                continue;
            }

            try
            {
                call.Complete(scorer.ScoreOne(call.Input));
            }
            catch (Exception e)
            {
                _metrics.Error("row");
                call.Fail(e);
            }
        }
    }
}
