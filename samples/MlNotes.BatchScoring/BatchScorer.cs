using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MlNotes.Transforms.Onnx;

namespace MlNotes.BatchScoring;

/// <summary>
/// Scores a saved ML.NET model over a CSV file (or a folder of images) into a CSV file, streaming: memory does not grow with the
/// input. Checkpoints every few thousand rows (output flushed to disk, then a small progress file replaced atomically), so
/// <c>--resume</c> after a crash truncates the output to the last checkpoint and carries on, with no row lost or written twice.
/// </summary>
public static class BatchScorer
{
    public static BatchScoringResult Run(BatchScoringOptions o, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(log);
        var ml = new MLContext(seed: 1);
        var provider = o.Provider == "cuda" ? OnnxExecutionProvider.Cuda : OnnxExecutionProvider.Cpu;
        var model = ml.Model.LoadWithExecutionProvider(o.Model, provider, gpuDeviceId: 0, fallbackToCpu: true, out var inputSchema);
        try
        {
            IDataView input = Directory.Exists(o.Input) ? ImageFolder(ml, o.Input, inputSchema) : Csv(ml, o.Input, inputSchema);
            IDataView shard = new ShardDataView(input, o.ShardIndex, o.ShardCount);
            string progressFile = o.Output + ".progress";
            var checkpoint = o.Resume && File.Exists(progressFile) ? Checkpoint.Read(progressFile) : new Checkpoint(0, 0, false);
            if (checkpoint.Complete)
            {
                log.WriteLine($"{o.Output} is complete ({checkpoint.Rows:N0} rows): nothing to resume.");
                return new BatchScoringResult(checkpoint.Rows, 0, 0, Process.GetCurrentProcess().PeakWorkingSet64);
            }

            if (checkpoint.Rows > 0)
            {
                shard = ml.Data.SkipRows(shard, checkpoint.Rows);
                log.WriteLine($"Resuming after {checkpoint.Rows:N0} rows.");
            }

            var scored = model.Transform(shard);
            var columns = OutputColumns(scored.Schema, inputSchema);
            return Write(o, scored, columns, checkpoint, progressFile, log);
        }
        finally
        {
            foreach (var transformer in model as IEnumerable<ITransformer> ?? new[] { model })
            {
                (transformer as IDisposable)?.Dispose();
            }
        }
    }

    private static BatchScoringResult Write(BatchScoringOptions o, IDataView scored, List<OutputColumn> columns, Checkpoint start, string progressFile, TextWriter log)
    {
        var stream = new FileStream(o.Output, start.Rows > 0 ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.Write, FileShare.Read);
        stream.SetLength(start.Bytes);
        stream.Seek(start.Bytes, SeekOrigin.Begin);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        if (start.Rows == 0)
        {
            writer.WriteLine(string.Join(",", columns.SelectMany(c => c.Headers)));
        }

        long rows = start.Rows, scoredNow = 0;
        var watch = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var line = new StringBuilder();
        using (var cursor = scored.GetRowCursor(columns.Select(c => c.Column)))
        {
            var getters = columns.Select(c => c.MakeWriter(cursor)).ToArray();
            while (cursor.MoveNext())
            {
                line.Clear();
                for (int i = 0; i < getters.Length; i++)
                {
                    if (i > 0)
                    {
                        line.Append(',');
                    }

                    getters[i](line);
                }

                writer.WriteLine(line);
                rows++;
                scoredNow++;
                if (scoredNow % o.CheckpointRows == 0)
                {
                    writer.Flush();
                    stream.Flush(flushToDisk: true);
                    new Checkpoint(rows, stream.Position, false).Write(progressFile);
                    if (o.Progress)
                    {
                        log.WriteLine($"checkpoint rows={rows}");
                    }
                }

                if (o.Progress && watch.Elapsed - lastReport > TimeSpan.FromSeconds(1))
                {
                    lastReport = watch.Elapsed;
                    log.WriteLine($"progress rows={rows} rows_per_s={scoredNow / watch.Elapsed.TotalSeconds:F0} rss_mb={Environment.WorkingSet / 1048576}");
                }
            }
        }

        writer.Flush();
        stream.Flush(flushToDisk: true);
        new Checkpoint(rows, stream.Position, true).Write(progressFile);
        double rate = scoredNow / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        log.WriteLine($"done rows={rows} scored_now={scoredNow} rows_per_s={rate:F0} peak_rss_mb={peak / 1048576} output={o.Output}");
        return new BatchScoringResult(rows, scoredNow, rate, peak);
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
            columns.Add(new TextLoader.Column(column.Name, kind, at, at + Math.Max(size, 1) - 1));
        }

        return ml.Data.LoadFromTextFile(path, columns.ToArray(), separatorChar: ',', hasHeader: true);
    }

    private static IDataView ImageFolder(MLContext ml, string folder, DataViewSchema schema)
    {
        string pathColumn = schema.FirstOrDefault(c => c.Type is TextDataViewType && !c.IsHidden).Name
            ?? throw new InvalidOperationException("A folder of images needs a model whose input has a text column of image paths (ImagePath).");
        var files = Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var builder = new SchemaDefinitionBuilder(pathColumn);
        return ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = f! }), builder.Definition);
    }

    private static List<OutputColumn> OutputColumns(DataViewSchema scored, DataViewSchema input)
    {
        var result = new List<OutputColumn> { new(scored[ShardDataView.RowIndexColumn]) };
        foreach (var column in scored.Where(c => !c.IsHidden && input.GetColumnOrNull(c.Name) == null && c.Name != ShardDataView.RowIndexColumn))
        {
            if (column.Type is ImageDataViewType || column.Type is VectorDataViewType { Size: 0 })
            {
                continue; // Images and variable-size vectors have no fixed place in a CSV row.
            }

            result.Add(new OutputColumn(column));
        }

        return result;
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    private sealed class SchemaDefinitionBuilder
    {
        public SchemaDefinitionBuilder(string column)
        {
            Definition = SchemaDefinition.Create(typeof(PathRow));
            Definition[0].ColumnName = column;
        }

        public SchemaDefinition Definition { get; }
    }

    private sealed record Checkpoint(long Rows, long Bytes, bool Complete)
    {
        public static Checkpoint Read(string path) => JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(path)) ?? new Checkpoint(0, 0, false);

        // Written beside, then moved over: a crash leaves the old checkpoint or the new one, never half of one.
        public void Write(string path)
        {
            string temporary = path + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(this));
            File.Move(temporary, path, overwrite: true);
        }
    }
}

/// <summary>What a run did.</summary>
public sealed record BatchScoringResult(long RowsInOutput, long RowsScoredNow, double RowsPerSecond, long PeakWorkingSetBytes);
