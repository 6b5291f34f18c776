using System;
using System.Collections.Generic;
using Microsoft.ML;

namespace MlNotes.Serving;

/// <summary>
/// One model generation of a pool: the model and the <see cref="BatchScorer{TInput, TOutput}"/>s over it, one per batch being
/// scored at a time (a scorer's view and engine serve one thread at a time; the model's sessions are shared). Retired by a
/// reload, it releases its scorers (and the model, when the pool loaded it) once its last batch ends.
/// </summary>
internal sealed class ScorerSet<TInput, TOutput>
    where TInput : class
    where TOutput : class, new()
{
    private readonly object _lock = new();
    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly bool _ownsModel;
    private readonly Stack<BatchScorer<TInput, TOutput>> _free = new();
    private readonly List<BatchScorer<TInput, TOutput>> _all = [];
    private int _inUse;
    private bool _retired;

    /// <summary>Builds the first scorer at once, so that a model that cannot score these classes fails here.</summary>
    public ScorerSet(MLContext ml, ITransformer model, bool ownsModel)
    {
        _ml = ml;
        _model = model;
        _ownsModel = ownsModel;
        try
        {
            var first = new BatchScorer<TInput, TOutput>(ml, model);
            _all.Add(first);
            _free.Push(first);
        }
        catch
        {
            if (ownsModel)
            {
                DisposeModel(model);
            }

            throw;
        }
    }

    /// <summary>
    /// Holds the set for one batch (called under the pool's lock when the batch starts, so that a reload cannot release the
    /// set between the batch's start and <see cref="Take"/>). Every reservation ends with one <see cref="Release"/>.
    /// </summary>
    public void Reserve()
    {
        lock (_lock)
        {
            _inUse++;
        }
    }

    /// <summary>The reserved batch's scorer: a free one, or a new one when all are busy; on failure the reservation is released.</summary>
    public BatchScorer<TInput, TOutput> Take()
    {
        lock (_lock)
        {
            if (_free.TryPop(out var scorer))
            {
                return scorer;
            }
        }

        try
        {
            var scorer = new BatchScorer<TInput, TOutput>(_ml, _model);
            lock (_lock)
            {
                _all.Add(scorer);
            }

            return scorer;
        }
        catch
        {
            Release(null);
            throw;
        }
    }

    /// <summary>Ends a reservation, giving its scorer back (null: none was taken); the last one of a retired set disposes it.</summary>
    public void Release(BatchScorer<TInput, TOutput>? scorer)
    {
        bool last;
        lock (_lock)
        {
            if (scorer != null)
            {
                _free.Push(scorer);
            }

            _inUse--;
            last = _retired && _inUse == 0;
        }

        if (last)
        {
            DisposeAll();
        }
    }

    /// <summary>No batch starts on this set any more: it is disposed now, or when its last batch ends.</summary>
    public void Retire()
    {
        bool idle;
        lock (_lock)
        {
            if (_retired)
            {
                return;
            }

            _retired = true;
            idle = _inUse == 0;
        }

        if (idle)
        {
            DisposeAll();
        }
    }

    private void DisposeAll()
    {
        foreach (var scorer in _all)
        {
            scorer.Dispose();
        }

        _all.Clear();
        _free.Clear();
        if (_ownsModel)
        {
            DisposeModel(_model);
        }
    }

    private static void DisposeModel(ITransformer model)
    {
        if (model is IEnumerable<ITransformer> chain)
        {
            foreach (var transformer in chain)
            {
                (transformer as IDisposable)?.Dispose();
            }
        }

        (model as IDisposable)?.Dispose();
    }
}
