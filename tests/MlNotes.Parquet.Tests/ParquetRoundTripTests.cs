using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Schema;
using Xunit;

namespace MlNotes.Parquet.Tests;

/// <summary>LoadFromParquet and SaveAsParquet: types, vectors, bytes, row groups, folders, and every refusal.</summary>
public sealed class ParquetRoundTripTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnotes-parquet-" + Guid.NewGuid().ToString("N"));
    private readonly MLContext _ml = new(seed: 1);

    public ParquetRoundTripTests() => Directory.CreateDirectory(_folder);

    public sealed class Row
    {
        public float F { get; set; }

        public double D { get; set; }

        public int I { get; set; }

        public long L { get; set; }

        public bool B { get; set; }

        public string S { get; set; } = "";

        [VectorType(3)]
        public float[] Fixed { get; set; } = [];

        public float[] Ragged { get; set; } = [];

        public byte[] Bytes { get; set; } = [];
    }

    [Fact]
    public async System.Threading.Tasks.Task Save_then_load_gives_the_same_rows_types_and_vectors_across_row_groups()
    {
        var rows = Rows(53);
        var data = _ml.Data.LoadFromEnumerable(rows);
        string path = Path.Combine(_folder, "rows.parquet");
        using (var stream = File.Create(path))
        {
            Assert.Equal(53, _ml.Data.SaveAsParquet(data, stream, new ParquetSaverOptions { RowGroupRows = 10 }));
        }

        var loaded = _ml.Data.LoadFromParquet(path, new ParquetLoaderOptions { VectorSizes = new Dictionary<string, int> { ["Fixed"] = 3 } });
        Assert.Equal(53, loaded.GetRowCount());
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 3), loaded.Schema["Fixed"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single), loaded.Schema["Ragged"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Byte), loaded.Schema["Bytes"].Type);
        Assert.Equal(TextDataViewType.Instance, loaded.Schema["S"].Type);
        Assert.Equal(NumberDataViewType.Int64, loaded.Schema["L"].Type);
        var back = _ml.Data.CreateEnumerable<Row>(loaded, reuseRowObject: false).ToArray();
        Assert.Equal(rows.Length, back.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal((rows[i].F, rows[i].D, rows[i].I, rows[i].L, rows[i].B, rows[i].S), (back[i].F, back[i].D, back[i].I, back[i].L, back[i].B, back[i].S));
            Assert.Equal(rows[i].Fixed, back[i].Fixed);
            Assert.Equal(rows[i].Ragged, back[i].Ragged);
            Assert.Equal(rows[i].Bytes, back[i].Bytes);
        }

        // Written as real Parquet: another reader (Parquet.Net's own, not through MlNotes) sees 6 row groups and a list column.
        using var file = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(file);
        Assert.Equal(6, reader.RowGroupCount);
        Assert.IsType<ListField>(reader.Schema.Fields.Single(f => f.Name == "Fixed"));
    }

    [Fact]
    public void A_cursor_holds_one_row_group_at_a_time_and_a_folder_reads_its_files_in_name_order()
    {
        // 3 files x 8 row groups x 500 rows, 16 floats a row: a cursor must never hold more than one row group's 500 x (16 + 1) values.
        for (int f = 0; f < 3; f++)
        {
            var data = _ml.Data.LoadFromEnumerable(Enumerable.Range(f * 4000, 4000).Select(i => new Wide { Id = i, Values = Enumerable.Repeat((float)i, 16).ToArray() }));
            using var stream = File.Create(Path.Combine(_folder, $"part-{f:D5}.parquet"));
            _ml.Data.SaveAsParquet(data, stream, new ParquetSaverOptions { RowGroupRows = 500 });
        }

        var view = (ParquetDataView)_ml.Data.LoadFromParquet(_folder, new ParquetLoaderOptions { VectorSizes = new Dictionary<string, int> { ["Values"] = 16 } });
        Assert.Equal(12_000, view.GetRowCount());
        long expected = 0;
        using (var cursor = view.GetRowCursor(view.Schema))
        {
            var id = cursor.GetGetter<long>(view.Schema["Id"]);
            var values = cursor.GetGetter<VBuffer<float>>(view.Schema["Values"]);
            long value = 0;
            VBuffer<float> vector = default;
            while (cursor.MoveNext())
            {
                id(ref value);
                values(ref vector);
                Assert.Equal(expected, value);
                Assert.Equal(expected, cursor.Position);
                Assert.All(vector.DenseValues(), x => Assert.Equal(expected, x));
                expected++;
            }
        }

        Assert.Equal(12_000, expected);
        Assert.Equal(500 * 17, view.PeakBufferedValues);

        // Only the active columns are read: a cursor over Id alone holds 500 values.
        var idOnly = (ParquetDataView)_ml.Data.LoadFromParquet(_folder, new ParquetLoaderOptions { VectorSizes = new Dictionary<string, int> { ["Values"] = 16 } });
        using (var cursor = idOnly.GetRowCursor([idOnly.Schema["Id"]]))
        {
            while (cursor.MoveNext())
            {
            }
        }

        Assert.Equal(500, idOnly.PeakBufferedValues);
    }

    [Fact]
    public void Nulls_read_as_NaN_in_floats_and_are_refused_in_ints_naming_column_row_and_file()
    {
        string path = Path.Combine(_folder, "nulls.parquet");
        var f = new DataField<float?>("F");
        var i = new DataField<int?>("I");
        Write(path, new ParquetSchema(f, i), async g =>
        {
            await g.WriteAsync<float>(f, new float?[] { 1, null, 3 });
            await g.WriteAsync<int>(i, new int?[] { 1, 2, null });
        });

        var floats = _ml.Data.LoadFromParquet(path, new ParquetLoaderOptions { Columns = ["F"] });
        Assert.Equal([1f, float.NaN, 3f], floats.GetColumn<float>("F").ToArray());
        var ints = _ml.Data.LoadFromParquet(path);
        var error = Assert.Throws<InvalidOperationException>(() => ints.GetColumn<int>("I").ToArray());
        Assert.Contains("'I'", error.Message, StringComparison.Ordinal);
        Assert.Contains("row 2 of row group 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("nulls.parquet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_types_missing_columns_wrong_list_lengths_and_mismatched_files_are_refused_clearly()
    {
        string path = Path.Combine(_folder, "decimal.parquet");
        var price = new DecimalDataField("Price", 10, 2);
        var id = new DataField<int>("Id");
        Write(path, new ParquetSchema(price, id), async g =>
        {
            await g.WriteAsync<decimal>(price, new decimal[] { 1.5m });
            await g.WriteAsync<int>(id, new[] { 7 });
        });

        var unsupported = Assert.Throws<NotSupportedException>(() => _ml.Data.LoadFromParquet(path));
        Assert.Contains("'Price'", unsupported.Message, StringComparison.Ordinal);
        Assert.Contains("Decimal", unsupported.Message, StringComparison.Ordinal);
        Assert.Contains("ParquetLoaderOptions.Columns", unsupported.Message, StringComparison.Ordinal);
        Assert.Equal([7], _ml.Data.LoadFromParquet(path, new ParquetLoaderOptions { Columns = ["Id"] }).GetColumn<int>("Id").ToArray());

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Data.LoadFromParquet(path, new ParquetLoaderOptions { Columns = ["Nope"] }));
        Assert.Contains("'Nope'", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Data.LoadFromParquet(path, new ParquetLoaderOptions { Columns = ["Id"], VectorSizes = new Dictionary<string, int> { ["Id"] = 0 } }));
        Assert.Throws<FileNotFoundException>(() => _ml.Data.LoadFromParquet(Path.Combine(_folder, "absent.parquet")));

        string ragged = Path.Combine(_folder, "ragged", "a.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(ragged)!);
        using (var stream = File.Create(ragged))
        {
            _ml.Data.SaveAsParquet(_ml.Data.LoadFromEnumerable(Rows(4)), stream);
        }

        var wrongLength = _ml.Data.LoadFromParquet(ragged, new ParquetLoaderOptions { Columns = ["Ragged"], VectorSizes = new Dictionary<string, int> { ["Ragged"] = 2 } });
        var mismatch = Assert.Throws<InvalidOperationException>(() => wrongLength.GetColumn<VBuffer<float>>("Ragged").ToArray());
        Assert.Contains("'Ragged' at row 0", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("expected a list of 2 values", mismatch.Message, StringComparison.Ordinal);

        // A folder whose files disagree: named when the view is built.
        File.Copy(path, Path.Combine(_folder, "ragged", "b.parquet"));
        var disagree = Assert.Throws<InvalidOperationException>(() => _ml.Data.LoadFromParquet(Path.Combine(_folder, "ragged")));
        Assert.Contains("b.parquet", disagree.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Saving_names_an_unsupported_column_keys_are_written_as_their_values_and_a_disposed_cursor_refuses()
    {
        var text = _ml.Data.LoadFromEnumerable(new[] { new Tokens { Words = ["a", "b"] } });
        var refused = Assert.Throws<NotSupportedException>(() => _ml.Data.SaveAsParquet(text, Stream.Null));
        Assert.Contains("'Words'", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Data.SaveAsParquet(text, Stream.Null, new ParquetSaverOptions { RowGroupRows = 0 }));

        var labels = _ml.Transforms.Conversion.MapValueToKey("Key", "S").Fit(_ml.Data.LoadFromEnumerable(Rows(3))).Transform(_ml.Data.LoadFromEnumerable(Rows(3)));
        string path = Path.Combine(_folder, "keys.parquet");
        using (var stream = File.Create(path))
        {
            _ml.Data.SaveAsParquet(_ml.Transforms.SelectColumns("Key").Fit(labels).Transform(labels), stream);
        }

        var keys = _ml.Data.LoadFromParquet(path);
        Assert.Equal(["s0", "s1", "s2"], keys.GetColumn<string>("Key").ToArray());

        var cursor = keys.GetRowCursor(keys.Schema);
        cursor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cursor.MoveNext());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Row[] Rows(int count) => Enumerable.Range(0, count).Select(i => new Row
    {
        F = i * 0.5f,
        D = i / 3.0,
        I = -i,
        L = (long)i << 33,
        B = i % 2 == 0,
        S = "s" + i,
        Fixed = [i, i + 1, i + 2],
        Ragged = Enumerable.Range(0, i % 4).Select(k => (float)k).ToArray(),
        Bytes = Enumerable.Range(0, i % 5).Select(k => (byte)(k + i)).ToArray(),
    }).ToArray();

    private static void Write(string path, ParquetSchema schema, Func<ParquetRowGroupWriter, System.Threading.Tasks.Task> columns)
    {
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
        using (var group = writer.CreateRowGroup())
        {
            columns(group).GetAwaiter().GetResult();
        }

        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    public sealed class Wide
    {
        public long Id { get; set; }

        [VectorType(16)]
        public float[] Values { get; set; } = [];
    }

    public sealed class Tokens
    {
        public string[] Words { get; set; } = [];
    }
}
