using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace MlNotes.Transforms.Tests.Persistence;

/// <summary>One cell of a column: its numbers (every Single, Double, integer, key and Boolean widened exactly to double) or its texts.</summary>
internal sealed record Cell(double[]? Numbers, string[]? Texts);

/// <summary>A column of a view: its name, type, slot names and key values (when it has them) and every row's cell.</summary>
internal sealed record OutputColumn(string Name, string Type, string[]? SlotNames, string[]? KeyValues, List<Cell> Rows);

/// <summary>
/// The columns a component adds, read generically from any view (whatever their types), written to and read from JSON
/// (Singles as the shortest text that round-trips them, "NaN" and "Infinity" as strings), and compared column by column.
/// </summary>
internal static class OutputTable
{
    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The columns of <paramref name="view"/> whose names are not among <paramref name="inputColumns"/>, in schema order.</summary>
    public static List<OutputColumn> Read(IDataView view, IEnumerable<string> inputColumns)
    {
        var skip = inputColumns.ToHashSet(StringComparer.Ordinal);
        var columns = view.Schema.Where(c => !c.IsHidden && !skip.Contains(c.Name)).ToArray();
        var result = columns.Select(c => new OutputColumn(c.Name, TypeName(c.Type), Annotation(c, AnnotationUtils.Kinds.SlotNames), Annotation(c, AnnotationUtils.Kinds.KeyValues), new List<Cell>())).ToList();
        using var cursor = view.GetRowCursor(columns);
        var getters = columns.Select(c => Getter(cursor, c)).ToArray();
        while (cursor.MoveNext())
        {
            for (int i = 0; i < getters.Length; i++)
            {
                result[i].Rows.Add(getters[i]());
            }
        }

        return result;
    }

    /// <summary>
    /// Asserts the same columns (names and types; slot names and key values unless <paramref name="annotations"/> is false) and,
    /// row by row, texts equal and numbers within <paramref name="tolerance"/> x max(1, |expected|) (0: bit-exact; NaN equals NaN).
    /// </summary>
    public static void AssertEqual(IReadOnlyList<OutputColumn> expected, IReadOnlyList<OutputColumn> actual, double tolerance, bool annotations = true)
    {
        Assert.Equal(expected.Select(c => c.Name), actual.Select(c => c.Name));
        for (int c = 0; c < expected.Count; c++)
        {
            var (e, a) = (expected[c], actual[c]);
            if (annotations)
            {
                Assert.Equal(e.Type, a.Type);
                Assert.Equal(e.SlotNames, a.SlotNames);
                Assert.Equal(e.KeyValues, a.KeyValues);
            }

            Assert.Equal(e.Rows.Count, a.Rows.Count);
            for (int r = 0; r < e.Rows.Count; r++)
            {
                string where = $"column '{e.Name}', row {r}";
                Assert.True(Equals(e.Rows[r].Texts, a.Rows[r].Texts), $"{where}: expected texts [{Join(e.Rows[r].Texts)}], got [{Join(a.Rows[r].Texts)}]");
                double[] en = e.Rows[r].Numbers ?? Array.Empty<double>(), an = a.Rows[r].Numbers ?? Array.Empty<double>();
                Assert.True(en.Length == an.Length, $"{where}: expected {en.Length} values, got {an.Length}");
                for (int i = 0; i < en.Length; i++)
                {
                    bool same = en[i].Equals(an[i]) || Math.Abs(en[i] - an[i]) <= tolerance * Math.Max(1, Math.Abs(en[i]));
                    Assert.True(same, $"{where}, value {i}: expected {en[i].ToString("R", CultureInfo.InvariantCulture)}, got {an[i].ToString("R", CultureInfo.InvariantCulture)}");
                }
            }
        }
    }

    /// <summary>The largest |expected - actual| / max(1, |expected|) over every number (0 when all are equal), to measure tolerances.</summary>
    public static double MaxGap(IReadOnlyList<OutputColumn> expected, IReadOnlyList<OutputColumn> actual)
    {
        double max = 0;
        foreach (var (e, a) in expected.Zip(actual))
        {
            foreach (var (re, ra) in e.Rows.Zip(a.Rows))
            {
                foreach (var (x, y) in (re.Numbers ?? Array.Empty<double>()).Zip(ra.Numbers ?? Array.Empty<double>()))
                {
                    if (!x.Equals(y))
                    {
                        max = Math.Max(max, Math.Abs(x - y) / Math.Max(1, Math.Abs(x)));
                    }
                }
            }
        }

        return max;
    }

    /// <summary>Writes the columns as indented JSON, one row per line.</summary>
    public static void Write(string path, string component, IReadOnlyList<OutputColumn> columns)
    {
        var text = new StringBuilder();
        text.Append("{\n  \"component\": ").Append(Quote(component)).Append(",\n  \"columns\": [\n");
        for (int c = 0; c < columns.Count; c++)
        {
            var column = columns[c];
            bool single = column.Type.Contains("Single", StringComparison.Ordinal);
            text.Append("    {\n      \"name\": ").Append(Quote(column.Name)).Append(",\n      \"type\": ").Append(Quote(column.Type)).Append(",\n");
            if (column.SlotNames != null)
            {
                text.Append("      \"slotNames\": [").AppendJoin(", ", column.SlotNames.Select(Quote)).Append("],\n");
            }

            if (column.KeyValues != null)
            {
                text.Append("      \"keyValues\": [").AppendJoin(", ", column.KeyValues.Select(Quote)).Append("],\n");
            }

            text.Append("      \"rows\": [\n");
            for (int r = 0; r < column.Rows.Count; r++)
            {
                var cell = column.Rows[r];
                var values = cell.Texts != null ? cell.Texts.Select(Quote) : cell.Numbers!.Select(v => Format(v, single));
                text.Append("        [").AppendJoin(", ", values).Append(r + 1 < column.Rows.Count ? "],\n" : "]\n");
            }

            text.Append("      ]\n    }").Append(c + 1 < columns.Count ? ",\n" : "\n");
        }

        text.Append("  ]\n}\n");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private static string Format(double v, bool single)
        => !double.IsFinite(v) ? Quote(v.ToString(CultureInfo.InvariantCulture))
            : single ? ((float)v).ToString("R", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string text) => JsonSerializer.Serialize(text, s_relaxed);

    public static List<OutputColumn> Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path, Encoding.UTF8));
        var result = new List<OutputColumn>();
        foreach (var column in document.RootElement.GetProperty("columns").EnumerateArray())
        {
            string type = column.GetProperty("type").GetString()!;
            bool text = type.Contains("String", StringComparison.Ordinal);
            bool single = type.Contains("Single", StringComparison.Ordinal);
            var rows = column.GetProperty("rows").EnumerateArray().Select(cell => text
                ? new Cell(null, cell.EnumerateArray().Select(e => e.GetString()!).ToArray())
                : new Cell(cell.EnumerateArray().Select(e => Number(e, single)).ToArray(), null)).ToList();
            result.Add(new OutputColumn(column.GetProperty("name").GetString()!, type, Strings(column, "slotNames"), Strings(column, "keyValues"), rows));
        }

        return result;
    }

    private static double Number(JsonElement e, bool single)
    {
        if (e.ValueKind == JsonValueKind.String)
        {
            return double.Parse(e.GetString()!, CultureInfo.InvariantCulture);
        }

        return single ? e.GetSingle() : e.GetDouble();
    }

    private static string[]? Strings(JsonElement column, string name)
        => column.TryGetProperty(name, out var value) ? value.EnumerateArray().Select(e => e.GetString()!).ToArray() : null;

    private static bool Equals(string[]? a, string[]? b) => a == null ? b == null : b != null && a.SequenceEqual(b, StringComparer.Ordinal);

    private static string Join(string[]? texts) => texts == null ? "" : string.Join(", ", texts);

    /// <summary>The type as ML.NET names it, keys by their count (the key column of a typed output row is UInt32).</summary>
    private static string TypeName(DataViewType type) => type.ToString() ?? "";

    private static string[]? Annotation(DataViewSchema.Column column, string kind)
    {
        if (column.Annotations.Schema.GetColumnOrNull(kind) == null)
        {
            return null;
        }

        VBuffer<ReadOnlyMemory<char>> values = default;
        column.Annotations.GetValue(kind, ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    private static Func<Cell> Getter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var type = column.Type;
        var item = type is VectorDataViewType vector ? vector.ItemType : type;
        bool isVector = type is VectorDataViewType;
        if (item is TextDataViewType)
        {
            return isVector ? Vector<ReadOnlyMemory<char>>(cursor, column, null, v => v.ToString()) : Scalar<ReadOnlyMemory<char>>(cursor, column, null, v => v.ToString());
        }

        return item.RawType switch
        {
            var t when t == typeof(float) => isVector ? Vector<float>(cursor, column, v => v, null) : Scalar<float>(cursor, column, v => v, null),
            var t when t == typeof(double) => isVector ? Vector<double>(cursor, column, v => v, null) : Scalar<double>(cursor, column, v => v, null),
            var t when t == typeof(int) => isVector ? Vector<int>(cursor, column, v => v, null) : Scalar<int>(cursor, column, v => v, null),
            var t when t == typeof(long) => isVector ? Vector<long>(cursor, column, v => v, null) : Scalar<long>(cursor, column, v => v, null),
            var t when t == typeof(uint) => isVector ? Vector<uint>(cursor, column, v => v, null) : Scalar<uint>(cursor, column, v => v, null),
            var t when t == typeof(bool) => isVector ? Vector<bool>(cursor, column, v => v ? 1 : 0, null) : Scalar<bool>(cursor, column, v => v ? 1 : 0, null),
            _ => throw new NotSupportedException($"Column '{column.Name}' has type {type}, which the output table does not read."),
        };
    }

    private static Func<Cell> Scalar<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, double>? number, Func<T, string>? text)
    {
        var getter = cursor.GetGetter<T>(column);
        return () =>
        {
            T value = default!;
            getter(ref value);
            return number != null ? new Cell(new[] { number(value) }, null) : new Cell(null, new[] { text!(value) });
        };
    }

    private static Func<Cell> Vector<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, double>? number, Func<T, string>? text)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        return () =>
        {
            VBuffer<T> value = default;
            getter(ref value);
            var values = value.DenseValues();
            return number != null ? new Cell(values.Select(number).ToArray(), null) : new Cell(null, values.Select(text!).ToArray());
        };
    }
}
