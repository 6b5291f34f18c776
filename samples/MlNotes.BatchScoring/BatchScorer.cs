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
/// Scores a saved ML.NET model over a CSV file, a Parquet file or folder, or a folder of images into a CSV file or a folder of
/// Parquet parts (PartitionedOutput), streaming: memory does not grow with the input. Checkpoints every few thousand rows (output flushed to disk, then a small progress file replaced atomically), so
/// <c>--resume</c> after a crash truncates the output to the last checkpoint and carries on, with no row lost or written twice.
/// </summary>
public static class BatchScorer
{
    public static BatchScoringResult Run(BatchScoringOptions o, TextWriter log)
        => Run(o, new ScoringProgress(log, periodic: o.Progress != ProgressMode.None));

    internal static BatchScoringResult Run(BatchScoringOptions o, ScoringProgress progress)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(progress);
        var ml = new MLContext(seed: 1);
        var provider = o.Provider == "cuda" ? OnnxExecutionProvider.Cuda : OnnxExecutionProvider.Cpu;
        var model = ml.Model.LoadWithExecutionProvider(o.Model, provider, gpuDeviceId: 0, fallbackToCpu: true, out var inputSchema);
        try
        {
            IDataView input = ScoringInput.Load(ml, o.Input, inputSchema);
            if (o.PartitionedOutput)
            {
                return PartitionedOutput.Run(ml, o, model, input, inputSchema, progress);
            }

            IDataView shard = new ShardDataView(input, o.ShardIndex, o.ShardCount);
            string progressFile = o.Output + ".progress";
            var checkpoint = o.Resume && File.Exists(progressFile) ? Checkpoint.Read(progressFile) : new Checkpoint(0, 0, false);
            if (checkpoint.Complete)
            {
                progress.Message($"{o.Output} is complete ({checkpoint.Rows:N0} rows): nothing to resume.");
                return new BatchScoringResult(checkpoint.Rows, 0, 0, Process.GetCurrentProcess().PeakWorkingSet64);
            }

            if (checkpoint.Rows > 0)
            {
                shard = ml.Data.SkipRows(shard, checkpoint.Rows);
                progress.Message($"Resuming after {checkpoint.Rows:N0} rows.");
            }

            var scored = model.Transform(shard);
            var columns = OutputColumns(scored.Schema, inputSchema);
            return Write(o, scored, columns, checkpoint, progressFile, progress);
        }
        finally
        {
            foreach (var transformer in model as IEnumerable<ITransformer> ?? new[] { model })
            {
                (transformer as IDisposable)?.Dispose();
            }
        }
    }

    private static BatchScoringResult Write(BatchScoringOptions o, IDataView scored, List<OutputColumn> columns, Checkpoint start, string progressFile, ScoringProgress progress)
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
                    progress.Checkpoint(rows);
                }

                if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(1))
                {
                    lastReport = watch.Elapsed;
                    progress.Rows(rows, scoredNow / watch.Elapsed.TotalSeconds);
                }
            }
        }

        writer.Flush();
        stream.Flush(flushToDisk: true);
        new Checkpoint(rows, stream.Position, true).Write(progressFile);
        double rate = scoredNow / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        progress.Message($"done rows={rows} scored_now={scoredNow} rows_per_s={rate:F0} peak_rss_mb={peak / 1048576} output={o.Output}");
        return new BatchScoringResult(rows, scoredNow, rate, peak);
    }

    internal static List<OutputColumn> OutputColumns(DataViewSchema scored, DataViewSchema input)
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
