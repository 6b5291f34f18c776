using System;
using System.Collections.Generic;
using System.Linq;
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

    public BatchedDataView(IBatchedMapper parent, IDataView source)
    {
        _parent = parent;
        _source = source;
        Schema = parent.GetOutputSchema(source.Schema);
    }

    public bool CanShuffle => _source.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        _parent.ThrowIfDisposed();
        int inputCount = _source.Schema.Count;
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
        {
            active[column.Index] = true;
        }

        var activeOutputs = new bool[Schema.Count - inputCount];
        for (int i = 0; i < activeOutputs.Length; i++)
        {
            activeOutputs[i] = active[inputCount + i];
        }

        var upstream = new HashSet<int>(Enumerable.Range(0, inputCount).Where(i => active[i]));
        if (!activeOutputs.Any(a => a))
        {
            // Nothing to score: hand the upstream rows through, at no cost.
            var plain = _source.GetRowCursor(upstream.Select(i => _source.Schema[i]), rand);
            return new PassThroughCursor(this, plain, active);
        }

        foreach (string input in _parent.InputColumns(_source.Schema, activeOutputs))
        {
            upstream.Add(_source.Schema[input].Index);
        }

        var source = _source.GetRowCursor(upstream.Select(i => _source.Schema[i]), rand);
        return new BatchCursor(this, source, active, activeOutputs);
    }

    // Batching already keeps ONNX Runtime's threads busy; one cursor keeps rows in order at no extra memory.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

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
        private int _slot = -1;
        private long _position = -1;
        private bool _sourceDone;

        public BatchCursor(BatchedDataView view, DataViewRowCursor source, bool[] active, bool[] activeOutputs)
        {
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
            _batch = view._parent.CreateBatch(source, activeOutputs, capacity);
            _currentSlot = () => _slot;
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

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
                _batch.Add(_source.Position);
            }

            if (_batch.Count == 0)
            {
                return false;
            }

            _batch.Run();
            _slot = 0;
            _position++;
            return true;
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
