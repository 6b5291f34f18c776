using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Schema;

namespace MlNotes.Parquet;

/// <summary>Writes a data view to Parquet, one row group of <see cref="ParquetSaverOptions.RowGroupRows"/> rows at a time.</summary>
internal static class ParquetSaver
{
    public static long Save(IDataView data, Stream stream, ParquetSaverOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        if (options.RowGroupRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"ParquetSaverOptions.RowGroupRows must be at least 1, got {options.RowGroupRows}.");
        }

        var columns = data.Schema.Where(c => !c.IsHidden).ToArray();
        using var cursor = data.GetRowCursor(columns);
        return Write(cursor, columns, stream, options.RowGroupRows, long.MaxValue);
    }

    /// <summary>
    /// Writes the next rows of <paramref name="cursor"/> (at most <paramref name="maxRows"/>; it is not moved past the last one written)
    /// as one Parquet file: the batch command writes each checkpoint's rows this way.
    /// </summary>
    public static long Write(DataViewRowCursor cursor, IReadOnlyList<DataViewSchema.Column> columns, Stream stream, int rowGroupRows, long maxRows)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(columns);
        var writers = columns.Select(c => ColumnWriter.Create(c, rowGroupRows)).ToArray();
        return WriteAsync(cursor, stream, writers, rowGroupRows, maxRows).GetAwaiter().GetResult();
    }

    private static async Task<long> WriteAsync(DataViewRowCursor cursor, Stream stream, ColumnWriter[] columns, int rowGroupRows, long maxRows)
    {
        var schema = new ParquetSchema(columns.Select(c => c.Field));
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        var adders = columns.Select(c => c.MakeAdder(cursor)).ToArray();
        long rows = 0;
        int inGroup = 0;
        while (rows < maxRows && cursor.MoveNext())
        {
            foreach (var add in adders)
            {
                add(inGroup);
            }

            rows++;
            if (++inGroup == rowGroupRows)
            {
                await FlushAsync(writer, columns, inGroup);
                inGroup = 0;
            }
        }

        if (inGroup > 0 || rows == 0)
        {
            await FlushAsync(writer, columns, inGroup);
        }

        return rows;
    }

    private static async Task FlushAsync(ParquetWriter writer, ColumnWriter[] columns, int rows)
    {
        using var group = writer.CreateRowGroup();
        foreach (var column in columns)
        {
            await column.FlushAsync(group, rows);
        }
    }

    /// <summary>One column: its Parquet field, a buffer of one row group, and the writing of it.</summary>
    private abstract class ColumnWriter(DataViewSchema.Column column, Field field)
    {
        public DataViewSchema.Column Column { get; } = column;

        public Field Field { get; } = field;

        public abstract Action<int> MakeAdder(DataViewRow row);

        public abstract Task FlushAsync(ParquetRowGroupWriter group, int rows);

        public static ColumnWriter Create(DataViewSchema.Column column, int capacity)
        {
            var type = column.Type;
            if (type is KeyDataViewType key)
            {
                if (key.RawType != typeof(uint))
                {
                    throw Unsupported(column);
                }

                bool named = column.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { ItemType: TextDataViewType };
                return named ? new KeyNameWriter(column, capacity) : new ScalarWriter<uint>(column, capacity);
            }

            if (type is TextDataViewType)
            {
                return new TextWriter(column, capacity);
            }

            if (type is VectorDataViewType { ItemType: var item })
            {
                if (item == NumberDataViewType.Byte)
                {
                    return new BinaryWriter(column, capacity);
                }

                return ParquetColumn.ItemType(item.RawType) != null && item is not KeyDataViewType
                    ? (ColumnWriter)Activator.CreateInstance(typeof(ListWriter<>).MakeGenericType(item.RawType), column)!
                    : throw Unsupported(column);
            }

            return ParquetColumn.ItemType(type.RawType) != null
                ? (ColumnWriter)Activator.CreateInstance(typeof(ScalarWriter<>).MakeGenericType(type.RawType), column, capacity)!
                : throw Unsupported(column);
        }

        private static NotSupportedException Unsupported(DataViewSchema.Column column)
            => new($"Column '{column.Name}' of type {column.Type} cannot be written to Parquet. Supported: {ParquetColumn.Supported}, and keys (as their text values, or as uint).");
    }

    private sealed class ScalarWriter<T>(DataViewSchema.Column column, int capacity) : ColumnWriter(column, new DataField<T>(column.Name))
        where T : struct
    {
        private readonly T[] _values = new T[capacity];

        public override Action<int> MakeAdder(DataViewRow row)
        {
            var getter = row.GetGetter<T>(Column);
            return i => getter(ref _values[i]);
        }

        public override Task FlushAsync(ParquetRowGroupWriter group, int rows) => group.WriteAsync<T>((DataField)Field, _values.AsMemory(0, rows));
    }

    private sealed class TextWriter(DataViewSchema.Column column, int capacity) : ColumnWriter(column, new DataField<string>(column.Name))
    {
        private readonly string[] _values = new string[capacity];

        public override Action<int> MakeAdder(DataViewRow row)
        {
            var getter = row.GetGetter<ReadOnlyMemory<char>>(Column);
            ReadOnlyMemory<char> value = default;
            return i =>
            {
                getter(ref value);
                _values[i] = value.ToString();
            };
        }

        public override Task FlushAsync(ParquetRowGroupWriter group, int rows) => group.WriteAsync((DataField)Field, new ArraySegment<string>(_values, 0, rows));
    }

    private sealed class KeyNameWriter(DataViewSchema.Column column, int capacity) : ColumnWriter(column, new DataField<string>(column.Name))
    {
        private readonly string[] _values = new string[capacity];

        public override Action<int> MakeAdder(DataViewRow row)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            Column.GetKeyValues(ref names);
            var keys = names.DenseValues().Select(n => n.ToString()).ToArray();
            var getter = row.GetGetter<uint>(Column);
            uint value = 0;
            return i =>
            {
                getter(ref value);
                _values[i] = value > 0 && value <= keys.Length ? keys[value - 1] : "";
            };
        }

        public override Task FlushAsync(ParquetRowGroupWriter group, int rows) => group.WriteAsync((DataField)Field, new ArraySegment<string>(_values, 0, rows));
    }

    private sealed class BinaryWriter(DataViewSchema.Column column, int capacity) : ColumnWriter(column, new DataField<byte[]>(column.Name))
    {
        private readonly byte[][] _values = new byte[capacity][];

        public override Action<int> MakeAdder(DataViewRow row)
        {
            var getter = row.GetGetter<VBuffer<byte>>(Column);
            VBuffer<byte> value = default;
            return i =>
            {
                getter(ref value);
                _values[i] = value.DenseValues().ToArray();
            };
        }

        public override Task FlushAsync(ParquetRowGroupWriter group, int rows) => group.WriteAsync((DataField)Field, new ArraySegment<byte[]>(_values, 0, rows));
    }

    /// <summary>A vector as a Parquet list of required elements: definition level 2 for a value, 1 for an empty list.</summary>
    private sealed class ListWriter<T>(DataViewSchema.Column column) : ColumnWriter(column, new ListField(column.Name, new DataField<T>("element")))
        where T : struct
    {
        private readonly List<T> _values = [];
        private readonly List<int> _definitions = [], _repetitions = [];

        public override Action<int> MakeAdder(DataViewRow row)
        {
            var getter = row.GetGetter<VBuffer<T>>(Column);
            VBuffer<T> value = default;
            return i =>
            {
                getter(ref value);
                int first = _values.Count;
                foreach (var x in value.DenseValues())
                {
                    _values.Add(x);
                    _definitions.Add(2);
                    _repetitions.Add(_values.Count - 1 == first ? 0 : 1);
                }

                if (_values.Count == first)
                {
                    _definitions.Add(1);
                    _repetitions.Add(0);
                }
            };
        }

        public override async Task FlushAsync(ParquetRowGroupWriter group, int rows)
        {
            var item = (DataField)((ListField)Field).Item;
            await group.WriteAllPartsAsync<T>(item, _values.ToArray(), _definitions.ToArray(), _repetitions.ToArray(), CancellationToken.None);
            _values.Clear();
            _definitions.Clear();
            _repetitions.Clear();
        }
    }
}
