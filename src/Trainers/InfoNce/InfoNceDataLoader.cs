using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Trainers.InfoNce;

/// <summary>Reads pairs of vectors (and group ids) into memory, checking sizes and values row by row.</summary>
internal static class InfoNceDataLoader
{
    public static InfoNceDataSet Read(IDataView data, string columnA, string columnB, string? groupColumn, int sizeA, int sizeB, out long singletonRows)
    {
        var a = Column(data.Schema, columnA);
        var b = Column(data.Schema, columnB);
        DataViewSchema.Column? group = groupColumn == null ? null : data.Schema.GetColumnOrNull(groupColumn);
        if (groupColumn != null && group == null)
        {
            ThrowHelper.MissingColumn(nameof(data), groupColumn);
        }

        var columns = new List<DataViewSchema.Column> { a, b };
        if (group is { } g)
        {
            columns.Add(g);
        }

        var valuesA = new List<float>();
        var valuesB = new List<float>();
        var groups = new List<int>();
        var groupIds = new Dictionary<string, int>(StringComparer.Ordinal);
        using var cursor = data.GetRowCursor(columns);
        var getA = cursor.GetGetter<VBuffer<float>>(a);
        var getB = cursor.GetGetter<VBuffer<float>>(b);
        var getGroup = group is { } gc ? GroupGetter(cursor, gc) : null;
        VBuffer<float> buffer = default;
        var row = new float[Math.Max(sizeA, sizeB)];
        long position = -1;
        while (cursor.MoveNext())
        {
            position++;
            getA(ref buffer);
            Append(buffer, a.Name, sizeA, position, valuesA, row);
            getB(ref buffer);
            Append(buffer, b.Name, sizeB, position, valuesB, row);
            if (getGroup != null)
            {
                string key = getGroup();
                if (!groupIds.TryGetValue(key, out int id))
                {
                    id = groupIds.Count;
                    groupIds.Add(key, id);
                }

                groups.Add(id);
            }
        }

        singletonRows = 0;
        if (getGroup != null)
        {
            var counts = new int[groupIds.Count];
            foreach (int id in groups)
            {
                counts[id]++;
            }

            foreach (int count in counts)
            {
                singletonRows += count == 1 ? 1 : 0;
            }
        }

        return new InfoNceDataSet(valuesA.ToArray(), valuesB.ToArray(), getGroup == null ? null : groups.ToArray(), (int)(position + 1));
    }

    /// <summary>The size of a vector column: its declared size, or the length of its first row for a variable-size vector (0 when empty).</summary>
    public static int Size(IDataView data, string name)
    {
        var column = Column(data.Schema, name);
        int size = column.Type.GetVectorSize();
        if (size > 0)
        {
            return size;
        }

        using var cursor = data.GetRowCursor(new[] { column });
        var get = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        if (!cursor.MoveNext())
        {
            return 0;
        }

        get(ref buffer);
        return buffer.Length;
    }

    public static DataViewSchema.Column Column(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name) ?? ThrowHelper.MissingColumn<DataViewSchema.Column>(nameof(schema), name);
        if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType } vector || vector.ItemType != NumberDataViewType.Single)
        {
            ThrowHelper.SchemaMismatch(nameof(schema), name, "a vector of Single", $"{column.Type}");
        }

        return column;
    }

    private static void Append(in VBuffer<float> buffer, string name, int size, long position, List<float> values, float[] row)
    {
        if (buffer.Length != size)
        {
            ThrowHelper.SchemaMismatch("data", name, $"{size} values in every row", $"{buffer.Length} values at row {position}");
        }

        buffer.CopyTo(row);
        for (int j = 0; j < size; j++)
        {
            if (!float.IsFinite(row[j]))
            {
                ThrowHelper.BadValue(name, position, $"{(float.IsNaN(row[j]) ? "NaN" : "an infinite value")} in slot {j}");
            }

            values.Add(row[j]);
        }
    }

    private static Func<string>? GroupGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var type = column.Type;
        if (type is TextDataViewType)
        {
            var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            return () =>
            {
                get(ref value);
                return value.ToString();
            };
        }

        if (type is KeyDataViewType || type == NumberDataViewType.UInt32)
        {
            var get = cursor.GetGetter<uint>(column);
            uint value = 0;
            return () =>
            {
                get(ref value);
                return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            };
        }

        if (type == NumberDataViewType.Int32)
        {
            var get = cursor.GetGetter<int>(column);
            int value = 0;
            return () =>
            {
                get(ref value);
                return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            };
        }

        if (type == NumberDataViewType.Int64)
        {
            var get = cursor.GetGetter<long>(column);
            long value = 0;
            return () =>
            {
                get(ref value);
                return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            };
        }

        if (type == NumberDataViewType.Single)
        {
            var get = cursor.GetGetter<float>(column);
            float value = 0;
            return () =>
            {
                get(ref value);
                return value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            };
        }

        ThrowHelper.SchemaMismatch("data", column.Name, "a group id of type Text, Int32, Int64, UInt32, Single or a key", $"{type}");
        return null;
    }
}
