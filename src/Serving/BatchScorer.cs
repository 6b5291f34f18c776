using System;
using System.Collections;
using System.Collections.Generic;
using Microsoft.ML;

namespace MlNotes.Serving;

/// <summary>
/// The scoring machinery of one batch at a time over a model, used by one thread at a time (its <see cref="ScorerSet{TInput, TOutput}"/>
/// hands it out): a streaming view over "the rows of the current batch" with the model's transform built over it once, and a
/// <see cref="PredictionEngine{TSrc, TDst}"/> for a batch of one and for the row-by-row fallback when a batch fails. It does
/// not own the model.
/// </summary>
internal sealed class BatchScorer<TInput, TOutput> : IDisposable
    where TInput : class
    where TOutput : class, new()
{
    private readonly MLContext _ml;
    private readonly CurrentRows _rows = new();
    private readonly IDataView _scored;
    private readonly PredictionEngine<TInput, TOutput> _engine;

    public BatchScorer(MLContext ml, ITransformer model)
    {
        _ml = ml;

        // An IEnumerable (not a list) gives a streaming view that enumerates it again for every cursor: the schema and
        // the transform are built once, each batch only swaps the rows.
        IDataView source = ml.Data.LoadFromEnumerable<TInput>(_rows);
        _scored = model.Transform(source);
        _engine = ml.Model.CreatePredictionEngine<TInput, TOutput>(model, new PredictionEngineOptions { OwnsTransformer = false });
    }

    /// <summary>Scores <paramref name="rows"/> in one pass over the transform; throws when any row fails.</summary>
    public List<TOutput> ScoreBatch(IReadOnlyList<TInput> rows)
    {
        if (rows.Count == 1)
        {
            return new List<TOutput>(1) { _engine.Predict(rows[0]) };
        }

        _rows.Set(rows);
        try
        {
            var outputs = new List<TOutput>(rows.Count);
            outputs.AddRange(_ml.Data.CreateEnumerable<TOutput>(_scored, reuseRowObject: false));
            if (outputs.Count != rows.Count)
            {
                ThrowHelper.InvalidOperation($"The model returned {outputs.Count} rows for a batch of {rows.Count}: a pool needs a model that maps each row to one row (no filters).");
            }

            return outputs;
        }
        finally
        {
            _rows.Set(Array.Empty<TInput>());
        }
    }

    /// <summary>Scores one row on its own (a batch of one, or the fallback after a failed batch).</summary>
    public TOutput ScoreOne(TInput row) => _engine.Predict(row);

    public void Dispose() => _engine.Dispose();

    /// <summary>The rows of the batch being scored, enumerated afresh by each cursor of the streaming view.</summary>
    private sealed class CurrentRows : IEnumerable<TInput>
    {
        private IReadOnlyList<TInput> _rows = Array.Empty<TInput>();

        public void Set(IReadOnlyList<TInput> rows) => _rows = rows;

        public IEnumerator<TInput> GetEnumerator() => _rows.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
