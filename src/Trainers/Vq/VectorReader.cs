using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Trainers.Vq;

/// <summary>Reads a vector column into one row-major array, refusing NaN, infinities and vectors of another size by column and row.</summary>
internal static class VectorReader
{
    public static (float[] Data, int Rows) Read(IDataView data, DataViewSchema.Column column, int size)
    {
        var values = new List<float>();
        var row = new float[size];
        using var cursor = data.GetRowCursor(new[] { column });
        var get = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        long position = -1;
        int rows = 0;
        while (cursor.MoveNext())
        {
            position++;
            get(ref buffer);
            if (buffer.Length != size)
            {
                ThrowHelper.SchemaMismatch(nameof(data), column.Name, $"a vector of {size} values", $"{buffer.Length} values at row {position}");
            }

            buffer.CopyTo(row);
            for (int j = 0; j < size; j++)
            {
                if (!float.IsFinite(row[j]))
                {
                    ThrowHelper.BadValue(column.Name, position, $"{(float.IsNaN(row[j]) ? "NaN" : "an infinite value")} in slot {j}");
                }
            }

            values.AddRange(row);
            rows++;
        }

        return (values.ToArray(), rows);
    }
}
