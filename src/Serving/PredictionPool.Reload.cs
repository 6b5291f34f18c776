using System;
using Microsoft.ML;

namespace MlNotes.Serving;

/// <summary>Reloading: a new model is published here and taken by the next batch that starts (<c>StartBatch</c>).</summary>
public sealed partial class PredictionPool<TInput, TOutput>
{
    /// <summary>
    /// Swaps in <paramref name="model"/> (which the caller keeps owning): calls waiting or being scored are not dropped; batches
    /// that start after this returns use the new model. A model the pool loaded itself is disposed once its last batch ends.
    /// </summary>
    /// <param name="model">The new model, for the same input and output classes.</param>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public void Reload(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Publish(new ScorerSet<TInput, TOutput>(_ml, model, ownsModel: false));
    }

    private ScorerSet<TInput, TOutput> LoadScorer()
    {
        ITransformer model = _ml.Model.Load(_options.ModelPath!, out _);
        return new ScorerSet<TInput, TOutput>(_ml, model, ownsModel: true);
    }

    private void ReloadFromFile()
    {
        try
        {
            Publish(LoadScorer());
        }
        catch (ObjectDisposedException)
        {
            // The pool closed while the file loaded: the new model was released.
        }
        catch (Exception)
        {
            // A half-written or corrupt file: the current model stays; the next change of the file tries again.
            _metrics.Error("reload");
        }
    }

    private void Publish(ScorerSet<TInput, TOutput> scorer)
    {
        ScorerSet<TInput, TOutput>? stale;
        lock (_gate)
        {
            if (_closing)
            {
                stale = scorer;
            }
            else
            {
                stale = _next;
                _next = scorer;
            }
        }

        stale?.Retire();
        if (stale == scorer)
        {
            throw ThrowHelper.Disposed(_name);
        }
    }
}
