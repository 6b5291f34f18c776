using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>Scores one row at a time for <c>PredictionEngine</c>, reusing one batch of capacity 1.</summary>
internal sealed class BatchedRowMapper : IRowToRowMapper
{
    private readonly IBatchedMapper _parent;

    public BatchedRowMapper(IBatchedMapper parent, DataViewSchema inputSchema)
    {
        _parent = parent;
        InputSchema = inputSchema;
        OutputSchema = parent.GetOutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new HashSet<int>();
        var activeOutputs = new bool[OutputSchema.Count - InputSchema.Count];
        foreach (var column in dependingColumns)
        {
            if (column.Index < InputSchema.Count)
            {
                needed.Add(column.Index);
            }
            else
            {
                activeOutputs[column.Index - InputSchema.Count] = true;
            }
        }

        if (activeOutputs.Any(a => a))
        {
            foreach (string input in _parent.InputColumns(InputSchema, activeOutputs))
            {
                needed.Add(InputSchema[input].Index);
            }
        }

        return needed.OrderBy(i => i).Select(i => InputSchema[i]).ToArray();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        _parent.ThrowIfDisposed();
        var active = new bool[OutputSchema.Count];
        foreach (var column in activeColumns)
        {
            active[column.Index] = true;
        }

        return new MappedRow(this, input, active);
    }

    private sealed class MappedRow : DataViewRow
    {
        private readonly BatchedRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly bool[] _active;
        private readonly IBatch? _batch;
        private readonly ValueGetter<DataViewRowId>? _inputId;
        private long _scoredPosition = -1;
        private DataViewRowId _id;

        public MappedRow(BatchedRowMapper mapper, DataViewRow input, bool[] active)
        {
            _mapper = mapper;
            _input = input;
            _active = active;
            int inputCount = mapper.InputSchema.Count;
            var activeOutputs = active.Skip(inputCount).ToArray();
            if (activeOutputs.Any(a => a))
            {
                _batch = mapper._parent.CreateBatch(input, activeOutputs, capacity: 1);
                _inputId = input.GetIdGetter();
            }
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _mapper.InputSchema.Count;
            if (column.Index < inputCount)
            {
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            }

            if (_batch == null || !_active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this row.");
            }

            var inner = _batch.GetGetter(column.Index - inputCount, () => 0);
            if (inner is not ValueGetter<TValue> read)
            {
                throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': '{typeof(TValue)}', expected type: '{column.Type.RawType}'.");
            }

            return (ref TValue value) =>
            {
                EnsureScored();
                read(ref value);
            };
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _batch?.Dispose();
            }

            base.Dispose(disposing);
        }

        private void EnsureScored()
        {
            if (_scoredPosition == _input.Position && _scoredPosition >= 0)
            {
                return;
            }

            _batch!.Clear();
            _inputId!(ref _id);
            _batch.Add(_input.Position, _id);
            _batch.Run();
            _scoredPosition = _input.Position;
        }
    }
}
