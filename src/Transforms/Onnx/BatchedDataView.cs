using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// The lazy result of a batched transformer: the input's columns followed by the added ones.
/// Its cursor pulls up to BatchSize upstream rows, scores them together, then serves them in order.
/// </summary>
internal sealed class BatchedDataView : IDataView
{
    private readonly IBatchedMapper _parent;
    private readonly IDataView _source;

    private readonly Action? _secondFullPass;
    private int _fullPasses;

    /// <param name="parent">The batched transformer.</param>
    /// <param name="source">Its input.</param>
    /// <param name="secondFullPass">Called when the view has been scored to the end a second time (the warning that suggests a cache).</param>
    public BatchedDataView(IBatchedMapper parent, IDataView source, Action? secondFullPass = null)
    {
        _parent = parent;
        _source = source;
        _secondFullPass = secondFullPass;
        Schema = parent.GetOutputSchema(source.Schema);
    }

    public bool CanShuffle => _source.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (active, activeOutputs, upstream) = Plan(columnsNeeded);
        if (!activeOutputs.Any(a => a))
        {
            // Nothing to score: hand the upstream rows through, at no cost.
            return new PassThroughCursor(this, _source.GetRowCursor(upstream, rand), active);
        }

        return new BatchCursor(this, _source.GetRowCursor(upstream, rand), active, activeOutputs, setMember: false, new PassCounter(1));
    }

    /// <summary>Counts the cursors of one pass still reading; the last to reach the end completes a full pass of the view.</summary>
    private sealed class PassCounter(int cursors)
    {
        private int _reading = cursors;

        public bool Finish() => Interlocked.Decrement(ref _reading) == 0;
    }

    private void PassCompleted()
    {
        if (Interlocked.Increment(ref _fullPasses) == 2)
        {
            _secondFullPass?.Invoke();
        }
    }

    /// <summary>
    /// Parallel cursors where the source splits: each batches its own rows against the shared session (with
    /// IntraOpNumThreads = 1, n cursors use n cores on graphs too small for ONNX Runtime's own threads to scale).
    /// Rows keep the source's positions and batch ids, so ML.NET can put them back in order.
    /// </summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var (active, activeOutputs, upstream) = Plan(columnsNeeded);
        if (n <= 1 || !activeOutputs.Any(a => a))
        {
            return new[] { GetRowCursor(columnsNeeded, rand) };
        }

        var sources = _source.GetRowCursorSet(upstream, n, rand);
        if (sources.Length == 1)
        {
            return new DataViewRowCursor[] { new BatchCursor(this, sources[0], active, activeOutputs, setMember: false, new PassCounter(1)) };
        }

        var pass = new PassCounter(sources.Length);
        return sources.Select(s => (DataViewRowCursor)new BatchCursor(this, s, active, activeOutputs, setMember: true, pass)).ToArray();
    }

    private (bool[] Active, bool[] ActiveOutputs, DataViewSchema.Column[] Upstream) Plan(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        _parent.ThrowIfDisposed();
        int inputCount = _source.Schema.Count;
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
        {
            active[column.Index] = true;
        }

        var activeOutputs = active.Skip(inputCount).ToArray();
        var upstream = new HashSet<int>(Enumerable.Range(0, inputCount).Where(i => active[i]));
        if (activeOutputs.Any(a => a))
        {
            foreach (string input in _parent.InputColumns(_source.Schema, activeOutputs))
            {
                upstream.Add(_source.Schema[input].Index);
            }
        }

        return (active, activeOutputs, upstream.Order().Select(i => _source.Schema[i]).ToArray());
    }

    private static ValueGetter<TValue> Cast<TValue>(Delegate getter, DataViewSchema.Column column)
        => getter as ValueGetter<TValue>
           ?? throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': '{typeof(TValue)}', expected type: '{column.Type.RawType}'.");

    private sealed class PassThroughCursor : DataViewRowCursor
    {
        private readonly BatchedDataView _view;
        private readonly DataViewRowCursor _source;
        private readonly bool[] _active;

        public PassThroughCursor(BatchedDataView view, DataViewRowCursor source, bool[] active)
        {
            _view = view;
            _source = source;
            _active = active;
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _source.Position;

        public override long Batch => _source.Batch;

        public override bool MoveNext() => _source.MoveNext();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<DataViewRowId> GetIdGetter() => _source.GetIdGetter();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index >= _view._source.Schema.Count || !_active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            }

            return _source.GetGetter<TValue>(_view._source.Schema[column.Index]);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _source.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class BatchCursor : DataViewRowCursor
    {
        private readonly BatchedDataView _view;
        private readonly DataViewRowCursor _source;
        private readonly bool[] _active;
        private readonly int _inputCount;
        private readonly ColumnSlotCache?[] _caches;
        private readonly ValueGetter<DataViewRowId> _sourceId;
        private readonly DataViewRowId[] _ids;
        private readonly IBatch _batch;
        private readonly Func<int> _currentSlot;
        private readonly bool _setMember;
        private readonly long[] _sourcePositions;
        private readonly long[] _sourceBatches;
        private int _slot = -1;
        private long _position = -1;
        private readonly PassCounter _pass;
        private bool _sourceDone;
        private bool _finished;

        public BatchCursor(BatchedDataView view, DataViewRowCursor source, bool[] active, bool[] activeOutputs, bool setMember, PassCounter pass)
        {
            _pass = pass;
            _setMember = setMember;
            _view = view;
            _source = source;
            _active = active;
            _inputCount = view._source.Schema.Count;
            int capacity = view._parent.BatchSize;
            _caches = new ColumnSlotCache?[_inputCount];
            for (int i = 0; i < _inputCount; i++)
            {
                if (active[i])
                {
                    _caches[i] = ColumnSlotCache.Create(source, view._source.Schema[i], capacity);
                }
            }

            _sourceId = source.GetIdGetter();
            _ids = new DataViewRowId[capacity];
            _sourcePositions = new long[capacity];
            _sourceBatches = new long[capacity];
            _batch = view._parent.CreateBatch(source, activeOutputs, capacity);
            _currentSlot = () => _slot;
        }

        public override DataViewSchema Schema => _view.Schema;

        // A member of a cursor set reports the source row's position and batch, which ML.NET's consolidation needs.
        public override long Position => _setMember ? (_slot < 0 ? -1 : _sourcePositions[_slot]) : _position;

        public override long Batch => _setMember && _slot >= 0 ? _sourceBatches[_slot] : 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override bool MoveNext()
        {
            if (_slot + 1 < _batch.Count)
            {
                _slot++;
                _position++;
                return true;
            }

            if (_sourceDone)
            {
                Finished();
                return false;
            }

            _batch.Clear();
            while (_batch.Count < _batch.Capacity)
            {
                if (!_source.MoveNext())
                {
                    _sourceDone = true;
                    break;
                }

                int slot = _batch.Count;
                foreach (var cache in _caches)
                {
                    cache?.Fill(slot);
                }

                _sourceId(ref _ids[slot]);
                _sourcePositions[slot] = _source.Position;
                _sourceBatches[slot] = _source.Batch;
                _batch.Add(_source.Position, _ids[slot]);
            }

            if (_batch.Count == 0)
            {
                Finished();
                return false;
            }

            _batch.Run();
            _slot = 0;
            _position++;
            return true;
        }

        // The consumer has read every row of this cursor (once: MoveNext may be called again after the end).
        private void Finished()
        {
            if (!_finished)
            {
                _finished = true;
                if (_pass.Finish())
                {
                    _view.PassCompleted();
                }
            }
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = _ids[_slot];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            }

            Delegate getter = column.Index < _inputCount
                ? _caches[column.Index]!.MakeGetter(_currentSlot)
                : _batch.GetGetter(column.Index - _inputCount, _currentSlot);
            return Cast<TValue>(getter, column);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _batch.Dispose();
                _source.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
