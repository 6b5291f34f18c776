using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.BatchScoring;

/// <summary>
/// Shard <c>index</c> of <c>count</c> of a data view: the rows whose input position modulo <c>count</c> is <c>index</c>, with their
/// input position as a <c>RowIndex</c> column. Deterministic, so n copies under any scheduler split the input exactly.
/// </summary>
internal sealed class ShardDataView : IDataView
{
    public const string RowIndexColumn = "RowIndex";
    private readonly IDataView _source;
    private readonly int _index, _count;

    public ShardDataView(IDataView source, int index, int count)
    {
        _source = source;
        _index = index;
        _count = count;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(source.Schema);
        builder.AddColumn(RowIndexColumn, NumberDataViewType.Int64);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Where(c => c.Index < _source.Schema.Count).Select(c => _source.Schema[c.Index]).ToArray();
        return new Cursor(this, _source.GetRowCursor(needed), columnsNeeded.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor(ShardDataView view, DataViewRowCursor source, HashSet<int> active) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override bool MoveNext()
        {
            while (source.MoveNext())
            {
                if (source.Position % view._count == view._index)
                {
                    _position++;
                    return true;
                }
            }

            return false;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index == view._source.Schema.Count)
            {
                ValueGetter<long> rowIndex = (ref long value) => value = source.Position;
                return (ValueGetter<TValue>)(Delegate)rowIndex;
            }

            return source.GetGetter<TValue>(view._source.Schema[column.Index]);
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => source.GetIdGetter();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
