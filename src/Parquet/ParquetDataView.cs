using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Parquet;

namespace MlNotes.Parquet;

/// <summary>
/// A Parquet file, or a folder of them read in name order, as a lazy <see cref="IDataView"/>: footers are read when the view is
/// built (schema checked to agree across files, row count known), data when a cursor moves, one row group of the active columns
/// at a time.
/// </summary>
internal sealed class ParquetDataView : IDataView
{
    private readonly string[] _columns;
    private readonly IReadOnlyDictionary<string, int> _sizes;
    private long _peakBufferedValues;

    public ParquetDataView(string path, ParquetLoaderOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        Files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*.parquet").Order(StringComparer.Ordinal).ToArray()
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"The Parquet input '{path}' is neither a file nor a folder.", path);
        if (Files.Count == 0)
        {
            throw new FileNotFoundException($"The folder '{path}' holds no *.parquet file.", path);
        }

        _sizes = options.VectorSizes ?? new Dictionary<string, int>();
        var first = Footer(Files[0]);
        var all = first.Schema.Fields;
        if (options.Columns != null)
        {
            if (options.Columns.FirstOrDefault(c => all.All(f => f.Name != c)) is { } missing)
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"Could not find Parquet column '{missing}' (ParquetLoaderOptions.Columns) in '{Files[0]}'; it has: {string.Join(", ", all.Select(f => f.Name))}.");
            }
        }

        if (_sizes.FirstOrDefault(s => s.Value < 1 || all.All(f => f.Name != s.Key)) is { Key: not null } bad)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"ParquetLoaderOptions.VectorSizes: '{bad.Key}' => {bad.Value} names no list column of '{Files[0]}' or is not a size of at least 1.");
        }

        _columns = (options.Columns ?? all.Select(f => f.Name).ToList()).ToArray();
        var mapped = Map(first.Schema, Files[0]);
        var builder = new DataViewSchema.Builder();
        foreach (var column in mapped)
        {
            builder.AddColumn(column.Name, column.Type);
        }

        Schema = builder.ToSchema();
        RowCounts = new long[Files.Count];
        for (int f = 0; f < Files.Count; f++)
        {
            var footer = f == 0 ? first : Footer(Files[f]);
            var types = Map(footer.Schema, Files[f]);
            for (int c = 0; c < types.Length; c++)
            {
                if (!types[c].Type.Equals(mapped[c].Type))
                {
                    throw new InvalidOperationException(
                        $"Schema mismatch for Parquet column '{mapped[c].Name}': '{Files[f]}' has {types[c].Type}, '{Files[0]}' has {mapped[c].Type}.");
                }
            }

            RowCounts[f] = footer.Rows;
        }
    }

    public IReadOnlyList<string> Files { get; }

    /// <summary>Rows of each file, from the footers.</summary>
    public long[] RowCounts { get; }

    /// <summary>The most values any cursor of this view held at once (one row group of its active columns, the memory bound).</summary>
    public long PeakBufferedValues => Interlocked.Read(ref _peakBufferedValues);

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => RowCounts.Sum();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        return new ParquetCursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    /// <summary>The columns of one file, in the view's order, mapped afresh (each cursor owns its buffers).</summary>
    internal ParquetColumn[] Map(global::Parquet.Schema.ParquetSchema schema, string file)
        => _columns.Select(name =>
        {
            var field = schema.Fields.FirstOrDefault(f => f.Name == name)
                ?? throw new InvalidOperationException($"Schema mismatch: the Parquet file '{file}' has no column '{name}', which '{Files[0]}' has.");
            return ParquetColumn.Create(field, file, _sizes.TryGetValue(name, out int size) ? size : null);
        }).ToArray();

    internal void ReportBuffered(long values)
    {
        long peak;
        while (values > (peak = Interlocked.Read(ref _peakBufferedValues)) && Interlocked.CompareExchange(ref _peakBufferedValues, values, peak) != peak)
        {
        }
    }

    private static (global::Parquet.Schema.ParquetSchema Schema, long Rows) Footer(string file)
    {
        using var stream = File.OpenRead(file);
        try
        {
            var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
            try
            {
                return (reader.Schema, reader.RowGroups.Sum(g => g.RowCount));
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InvalidDataException($"'{file}' is not a readable Parquet file: {e.Message}", e);
        }
    }
}
