using System;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.BatchScoring;

/// <summary>One column of the output CSV: its headers (a vector gives one per slot) and a writer of one row's values.</summary>
internal sealed class OutputColumn
{
    public OutputColumn(DataViewSchema.Column column)
    {
        Column = column;
        int size = column.Type is VectorDataViewType v ? v.Size : 0;
        Headers = size == 0 ? new[] { column.Name } : Enumerable.Range(0, size).Select(i => $"{column.Name}_{i}").ToArray();
    }

    public DataViewSchema.Column Column { get; }

    public string[] Headers { get; }

    public Action<StringBuilder> MakeWriter(DataViewRow row)
    {
        var type = Column.Type;
        var item = type is VectorDataViewType v ? v.ItemType : type;
        var raw = item.RawType;
        if (item is KeyDataViewType key)
        {
            // A key with key values (a predicted label) is written as its value.
            VBuffer<ReadOnlyMemory<char>> names = default;
            bool named = Column.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { ItemType: TextDataViewType };
            if (named)
            {
                Column.GetKeyValues(ref names);
            }

            var keys = names.DenseValues().Select(n => n.ToString()).ToArray();
            var getter = row.GetGetter<uint>(Column);
            uint value = 0;
            return sb =>
            {
                getter(ref value);
                sb.Append(named && value > 0 && value <= keys.Length ? Quote(keys[value - 1]) : value.ToString(CultureInfo.InvariantCulture));
            };
        }

        return raw switch
        {
            var t when t == typeof(float) => Make<float>(row, (sb, x) => sb.Append(x.ToString("R", CultureInfo.InvariantCulture))),
            var t when t == typeof(double) => Make<double>(row, (sb, x) => sb.Append(x.ToString("R", CultureInfo.InvariantCulture))),
            var t when t == typeof(int) => Make<int>(row, (sb, x) => sb.Append(x.ToString(CultureInfo.InvariantCulture))),
            var t when t == typeof(long) => Make<long>(row, (sb, x) => sb.Append(x.ToString(CultureInfo.InvariantCulture))),
            var t when t == typeof(bool) => Make<bool>(row, (sb, x) => sb.Append(x ? "true" : "false")),
            var t when t == typeof(ReadOnlyMemory<char>) => Make<ReadOnlyMemory<char>>(row, (sb, x) => sb.Append(Quote(x.ToString()))),
            _ => throw new NotSupportedException($"Column '{Column.Name}' of type {type} cannot be written to CSV."),
        };
    }

    private Action<StringBuilder> Make<T>(DataViewRow row, Action<StringBuilder, T> write)
    {
        if (Column.Type is VectorDataViewType)
        {
            var getter = row.GetGetter<VBuffer<T>>(Column);
            VBuffer<T> values = default;
            return sb =>
            {
                getter(ref values);
                bool first = true;
                foreach (var x in values.DenseValues())
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    write(sb, x);
                    first = false;
                }
            };
        }

        var scalar = row.GetGetter<T>(Column);
        T value = default!;
        return sb =>
        {
            scalar(ref value);
            write(sb, value);
        };
    }

    private static readonly System.Buffers.SearchValues<char> s_special = System.Buffers.SearchValues.Create(",\"\n\r");

    private static string Quote(string text)
        => text.AsSpan().IndexOfAny(s_special) < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
