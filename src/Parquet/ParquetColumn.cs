using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Schema;

namespace MlNotes.Parquet;

/// <summary>
/// One top-level Parquet column as an ML.NET column: its type, and a buffer that holds the column's values of one row group
/// (the only data a cursor keeps), with a getter over it.
/// </summary>
internal abstract class ParquetColumn
{
    /// <summary>The ML.NET types a Parquet column can be read as, for error messages.</summary>
    public const string Supported = "float, double, byte, sbyte, short, ushort, int, uint, long, ulong, bool, string (Text), binary (a variable-size vector of Byte: image bytes), and lists of the numeric and bool types (vectors)";

    protected ParquetColumn(string name, DataField field, DataViewType type)
    {
        Name = name;
        Field = field;
        Type = type;
    }

    public string Name { get; }

    /// <summary>The Parquet field read, of the file being read (set as a cursor moves to the next file).</summary>
    public DataField Field { get; set; }

    public DataViewType Type { get; }

    /// <summary>Values held in the buffer now (for the memory bound: one row group's worth at most).</summary>
    public abstract long BufferedValues { get; }

    /// <summary>Reads this column of one row group; <paramref name="where"/> names file and row group for errors.</summary>
    public abstract Task LoadAsync(ParquetRowGroupReader rowGroup, int rows, string where);

    /// <summary>A getter over the loaded row group, for the row <paramref name="row"/> returns.</summary>
    public abstract Delegate MakeGetter(Func<int> row);

    /// <summary>Maps a top-level field, or throws <see cref="NotSupportedException"/> naming the column, its type and what is supported.</summary>
    public static ParquetColumn Create(Field field, string file, int? vectorSize)
    {
        if (field is DataField data && !data.IsArray)
        {
            var clr = data.ClrType;
            if (clr == typeof(ReadOnlyMemory<char>) || clr == typeof(string))
            {
                return new TextColumn(field.Name, data);
            }

            if (clr == typeof(ReadOnlyMemory<byte>) || clr == typeof(byte[]))
            {
                return new BinaryColumn(field.Name, data);
            }

            return Scalar(field.Name, data, file);
        }

        if (field is ListField { Item: DataField item } && item.MaxRepetitionLevel == 1 && !item.IsArray)
        {
            var itemType = ItemType(item.ClrType);
            if (itemType != null)
            {
                return (ParquetColumn)Activator.CreateInstance(typeof(ListColumn<>).MakeGenericType(item.ClrType), field.Name, item, itemType, vectorSize ?? 0)!;
            }
        }

        throw Unsupported(field, file);
    }

    public static NotSupportedException Unsupported(Field field, string file)
    {
        string type = field switch
        {
            ListField { Item: var item } => $"a list of {Describe(item)}",
            _ => Describe(field),
        };
        return new NotSupportedException(
            $"The Parquet column '{field.Name}' of '{file}' is {type}, which MlNotes cannot read as an ML.NET column. Supported: {Supported}. " +
            "Leave the column out with ParquetLoaderOptions.Columns.");
    }

    private static string Describe(Field field) => field switch
    {
        DataField d => d.ClrType.Name,
        ListField => "a list",
        StructField => "a struct",
        MapField => "a map",
        _ => field.SchemaType.ToString(),
    };

    public static PrimitiveDataViewType? ItemType(Type clr) => clr switch
    {
        var t when t == typeof(float) => NumberDataViewType.Single,
        var t when t == typeof(double) => NumberDataViewType.Double,
        var t when t == typeof(byte) => NumberDataViewType.Byte,
        var t when t == typeof(sbyte) => NumberDataViewType.SByte,
        var t when t == typeof(short) => NumberDataViewType.Int16,
        var t when t == typeof(ushort) => NumberDataViewType.UInt16,
        var t when t == typeof(int) => NumberDataViewType.Int32,
        var t when t == typeof(uint) => NumberDataViewType.UInt32,
        var t when t == typeof(long) => NumberDataViewType.Int64,
        var t when t == typeof(ulong) => NumberDataViewType.UInt64,
        var t when t == typeof(bool) => BooleanDataViewType.Instance,
        _ => null,
    };

    private static ParquetColumn Scalar(string name, DataField data, string file)
    {
        var type = ItemType(data.ClrType) ?? throw Unsupported(data, file);
        return (ParquetColumn)Activator.CreateInstance(typeof(ScalarColumn<>).MakeGenericType(data.ClrType), name, data, type)!;
    }

    /// <summary>A missing value: NaN where the ML.NET type has one, an error naming the place otherwise.</summary>
    internal static T Missing<T>(string column, string where, long row)
    {
        if (typeof(T) == typeof(float))
        {
            return (T)(object)float.NaN;
        }

        if (typeof(T) == typeof(double))
        {
            return (T)(object)double.NaN;
        }

        throw new InvalidOperationException(
            $"The Parquet column '{column}' has a null at row {row} of {where}: ML.NET's {typeof(T).Name} has no missing value (float and double read nulls as NaN).");
    }

    private sealed class ScalarColumn<T>(string name, DataField field, DataViewType type) : ParquetColumn(name, field, type)
        where T : struct
    {
        private T[] _values = [];
        private T?[] _nullable = [];
        private int _rows;

        public override long BufferedValues => _rows;

        public override async Task LoadAsync(ParquetRowGroupReader rowGroup, int rows, string where)
        {
            _rows = rows;
            if (_values.Length < rows)
            {
                _values = new T[rows];
            }

            if (!Field.IsNullable)
            {
                await rowGroup.ReadAsync<T>(Field, _values.AsMemory(0, rows));
                return;
            }

            if (_nullable.Length < rows)
            {
                _nullable = new T?[rows];
            }

            await rowGroup.ReadAsync<T>(Field, _nullable.AsMemory(0, rows));
            for (int i = 0; i < rows; i++)
            {
                _values[i] = _nullable[i] ?? Missing<T>(Name, where, i);
            }
        }

        public override Delegate MakeGetter(Func<int> row) => (ValueGetter<T>)((ref T value) => value = _values[row()]);
    }

    private sealed class TextColumn(string name, DataField field) : ParquetColumn(name, field, TextDataViewType.Instance)
    {
        private string?[] _values = [];
        private int _rows;

        public override long BufferedValues => _rows;

        public override async Task LoadAsync(ParquetRowGroupReader rowGroup, int rows, string where)
        {
            _rows = rows;
            _values = _values.Length >= rows ? _values : new string?[rows];
            await rowGroup.ReadAsync(Field, _values.AsMemory(0, rows));
        }

        public override Delegate MakeGetter(Func<int> row)
            => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = (_values[row()] ?? "").AsMemory());
    }

    private sealed class BinaryColumn(string name, DataField field) : ParquetColumn(name, field, new VectorDataViewType(NumberDataViewType.Byte))
    {
        private byte[]?[] _values = [];
        private int _rows;

        public override long BufferedValues => _rows;

        public override async Task LoadAsync(ParquetRowGroupReader rowGroup, int rows, string where)
        {
            _rows = rows;
            _values = _values.Length >= rows ? _values : new byte[]?[rows];
            await rowGroup.ReadAsync(Field, _values.AsMemory(0, rows));
        }

        public override Delegate MakeGetter(Func<int> row) => (ValueGetter<VBuffer<byte>>)((ref VBuffer<byte> value) =>
        {
            var bytes = _values[row()] ?? [];
            var editor = VBufferEditor.Create(ref value, bytes.Length);
            bytes.CopyTo(editor.Values);
            value = editor.Commit();
        });
    }

    /// <summary>A list column as a vector: its values of one row group and where each row's list starts.</summary>
    private sealed class ListColumn<T>(string name, DataField item, PrimitiveDataViewType itemType, int size) : ParquetColumn(name, item, new VectorDataViewType(itemType, size))
        where T : struct
    {
        private T[] _values = [];
        private int[] _definitions = [], _repetitions = [], _starts = [];
        private long _count;

        public override long BufferedValues => _count;

        public override async Task LoadAsync(ParquetRowGroupReader rowGroup, int rows, string where)
        {
            long entries = rowGroup.GetMetadata(Field)?.MetaData?.NumValues
                ?? throw new InvalidOperationException($"The Parquet column '{Name}' has no column chunk metadata in {where}.");
            if (_values.Length < entries)
            {
                _values = new T[entries];
                _definitions = new int[entries];
                _repetitions = new int[entries];
            }

            _starts = _starts.Length > rows ? _starts : new int[rows + 1];
            await rowGroup.ReadRawAsync<T>(Field, _values.AsMemory(0, (int)entries), _definitions.AsMemory(0, (int)entries), _repetitions.AsMemory(0, (int)entries));

            // Raw values hold only the defined ones; rows start where repetition is 0; a null element takes a slot too.
            int row = -1, slots = 0;
            bool nulls = false;
            for (int e = 0; e < entries; e++)
            {
                if (_repetitions[e] == 0)
                {
                    _starts[++row] = slots;
                }

                if (_definitions[e] == Field.MaxDefinitionLevel)
                {
                    slots++;
                }
                else if (_definitions[e] == Field.MaxDefinitionLevel - 1 && Field.IsNullable)
                {
                    slots++;
                    nulls = true;
                }
            }

            if (row + 1 != rows)
            {
                throw new InvalidOperationException($"The Parquet column '{Name}' has {row + 1} lists in {where}, whose row count is {rows}.");
            }

            _starts[rows] = slots;
            if (nulls)
            {
                var dense = new T[Math.Max(slots, _values.Length)];
                for (int e = 0, defined = 0, slot = 0, r = -1; e < entries; e++)
                {
                    r += _repetitions[e] == 0 ? 1 : 0;
                    if (_definitions[e] == Field.MaxDefinitionLevel)
                    {
                        dense[slot++] = _values[defined++];
                    }
                    else if (_definitions[e] == Field.MaxDefinitionLevel - 1)
                    {
                        dense[slot++] = Missing<T>(Name, where, r);
                    }
                }

                _values = dense;
            }

            _count = slots;
            if (size > 0)
            {
                for (int r = 0; r < rows; r++)
                {
                    int length = _starts[r + 1] - _starts[r];
                    if (length != size)
                    {
                        throw new InvalidOperationException(
                            $"Schema mismatch for Parquet column '{Name}' at row {r} of {where}: expected a list of {size} values (ParquetLoaderOptions.VectorSizes), got {length}.");
                    }
                }
            }
        }

        public override Delegate MakeGetter(Func<int> row) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) =>
        {
            int r = row();
            int start = _starts[r], length = _starts[r + 1] - start;
            var editor = VBufferEditor.Create(ref value, length);
            _values.AsSpan(start, length).CopyTo(editor.Values);
            value = editor.Commit();
        });
    }
}
