using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>Scores one row at a time for <c>PredictionEngine</c>, reusing one batch of capacity 1.</summary>
internal sealed class OnnxRowMapper : IRowToRowMapper
{
    private readonly OnnxScoringTransformer _parent;

    public OnnxRowMapper(OnnxScoringTransformer parent, DataViewSchema inputSchema)
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
        foreach (var column in dependingColumns)
        {
            if (column.Index < InputSchema.Count)
            {
                needed.Add(column.Index);
            }
            else
            {
                foreach (var input in _parent.Inputs)
                {
                    needed.Add(InputSchema[input.ColumnName].Index);
                }
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
        private readonly OnnxRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly bool[] _active;
        private readonly OnnxBatch? _batch;
        private long _scoredPosition = -1;

        public MappedRow(OnnxRowMapper mapper, DataViewRow input, bool[] active)
        {
            _mapper = mapper;
            _input = input;
            _active = active;
            int inputCount = mapper.InputSchema.Count;
            var activeOutputs = Enumerable.Range(0, mapper._parent.Outputs.Count).Select(i => active[inputCount + i]).ToArray();
            if (activeOutputs.Any(a => a))
            {
                _batch = new OnnxBatch(mapper._parent, input, activeOutputs, capacity: 1);
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

            var inner = _batch.GetOutputGetter(column.Index - inputCount, () => 0);
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
            _batch.Add(_input.Position);
            _batch.Run();
            _scoredPosition = _input.Position;
        }
    }
}
