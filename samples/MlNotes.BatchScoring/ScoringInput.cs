using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Parquet;

namespace MlNotes.BatchScoring;

/// <summary>The input of a run: a CSV file, a Parquet file or folder, or a folder of images, read as the model's input schema.</summary>
internal static class ScoringInput
{
    public static bool IsParquet(string path)
        => path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) || (Directory.Exists(path) && Directory.EnumerateFiles(path, "*.parquet").Any());

    public static IDataView Load(MLContext ml, string path, DataViewSchema schema)
        => IsParquet(path) ? Parquet(ml, path, schema) : Directory.Exists(path) ? ImageFolder(ml, path, schema) : Csv(ml, path, schema);

    /// <summary>The input files and their row counts, for the manifest (Parquet from footers, others by one pass).</summary>
    public static List<InputFile> Describe(IDataView input, string path)
    {
        if (input is ParquetDataView parquet)
        {
            return parquet.Files.Select((f, i) => new InputFile(Path.GetFileName(f), parquet.RowCounts[i])).ToList();
        }

        long rows = 0;
        using (var cursor = input.GetRowCursor([]))
        {
            while (cursor.MoveNext())
            {
                rows++;
            }
        }

        return [new InputFile(Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), rows)];
    }

    private static IDataView Parquet(MLContext ml, string path, DataViewSchema schema)
    {
        var wanted = schema.Where(c => !c.IsHidden).ToArray();
        var sizes = wanted.Where(c => c.Type is VectorDataViewType { Size: > 0 }).ToDictionary(c => c.Name, c => ((VectorDataViewType)c.Type).Size);
        var view = ml.Data.LoadFromParquet(path, new ParquetLoaderOptions { Columns = wanted.Select(c => c.Name).ToArray(), VectorSizes = sizes });
        foreach (var column in wanted)
        {
            var actual = view.Schema[column.Name].Type;
            if (!actual.Equals(column.Type))
            {
                throw new InvalidOperationException($"Schema mismatch for input column '{column.Name}' of '{path}': the model expects {column.Type}, the Parquet column is {actual}.");
            }
        }

        return view;
    }

    private static IDataView Csv(MLContext ml, string path, DataViewSchema schema)
    {
        string header = File.ReadLines(path).First();
        var names = header.Split(',').Select(h => h.Trim()).ToList();
        var columns = new List<TextLoader.Column>();
        foreach (var column in schema.Where(c => !c.IsHidden))
        {
            int at = names.IndexOf(column.Name);
            if (at < 0)
            {
                throw new InvalidOperationException($"The input '{path}' has no column '{column.Name}' that the model reads (its header: {header}).");
            }

            var item = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
            int size = column.Type is VectorDataViewType vector ? vector.Size : 1;
            var kind = item.RawType switch
            {
                var t when t == typeof(float) => DataKind.Single,
                var t when t == typeof(double) => DataKind.Double,
                var t when t == typeof(int) => DataKind.Int32,
                var t when t == typeof(long) => DataKind.Int64,
                var t when t == typeof(bool) => DataKind.Boolean,
                _ => DataKind.String,
            };
            // A scalar column is read as a scalar (a one-column range would be a vector of size 1, which a transform that
            // takes a scalar, e.g. a generator's text, refuses).
            columns.Add(column.Type is VectorDataViewType
                ? new TextLoader.Column(column.Name, kind, at, at + size - 1)
                : new TextLoader.Column(column.Name, kind, at));
        }

        return ml.Data.LoadFromTextFile(path, columns.ToArray(), separatorChar: ',', hasHeader: true);
    }

    private static IDataView ImageFolder(MLContext ml, string folder, DataViewSchema schema)
    {
        string pathColumn = schema.FirstOrDefault(c => c.Type is TextDataViewType && !c.IsHidden).Name
            ?? throw new InvalidOperationException("A folder of images needs a model whose input has a text column of image paths (ImagePath).");
        var files = Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var definition = SchemaDefinition.Create(typeof(PathRow));
        definition[0].ColumnName = pathColumn;
        return ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = f! }), definition);
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }
}

/// <summary>One input file of a run and its rows.</summary>
public sealed record InputFile(string Name, long Rows);
