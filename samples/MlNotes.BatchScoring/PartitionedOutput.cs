using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Parquet;

namespace MlNotes.BatchScoring;

/// <summary>
/// A shard's output in a folder: <c>part-00003.parquet</c> and, written last and atomically, <c>part-00003.json</c> (PartManifest).
/// While it runs, each checkpoint is one small Parquet file in <c>.part-00003/</c>, written to a temporary name, flushed and renamed,
/// so a killed task leaves only whole chunks; <c>--resume</c> counts their rows and carries on after them. At the end the chunks
/// are streamed into the part (row group by row group), then the manifest is written, then the chunks are deleted.
/// </summary>
internal static class PartitionedOutput
{
    public static BatchScoringResult Run(MLContext ml, BatchScoringOptions o, ITransformer model, IDataView input, DataViewSchema inputSchema, ScoringProgress progress)
    {
        Directory.CreateDirectory(o.Output);
        string part = Path.Combine(o.Output, PartManifest.PartName(o.ShardIndex));
        string manifestPath = Path.Combine(o.Output, PartManifest.ManifestName(o.ShardIndex));
        string chunks = Path.Combine(o.Output, $".part-{o.ShardIndex:D5}");
        if (o.Resume && File.Exists(manifestPath))
        {
            var done = PartManifest.Read(manifestPath);
            if (File.Exists(part) && PartManifest.HashFile(part) == done.Sha256)
            {
                if (Directory.Exists(chunks))
                {
                    Directory.Delete(chunks, recursive: true); // killed between the manifest and the clean-up
                }

                progress.Message($"{part} is complete ({done.Rows:N0} rows): nothing to resume.");
                return new BatchScoringResult(done.Rows, 0, 0, Process.GetCurrentProcess().PeakWorkingSet64);
            }
        }

        // A manifest goes before anything it describes is touched: no moment has a manifest beside a part it does not match.
        File.Delete(manifestPath);
        File.Delete(part);
        if (!o.Resume && Directory.Exists(chunks))
        {
            Directory.Delete(chunks, recursive: true);
        }

        Directory.CreateDirectory(chunks);
        foreach (string stale in Directory.EnumerateFiles(chunks, "*.tmp"))
        {
            File.Delete(stale);
        }

        int chunk = Directory.EnumerateFiles(chunks, "*.parquet").Count();
        long rows = chunk == 0 ? 0 : ml.Data.LoadFromParquet(chunks).GetRowCount() ?? 0;
        IDataView shard = new ShardDataView(input, o.ShardIndex, o.ShardCount);
        long? shardRows = input.GetRowCount() is long total ? PartManifest.ExpectedRows(total, o.ShardIndex, o.ShardCount) : null;
        progress.Started(shardRows, rows);
        if (rows > 0)
        {
            progress.Message($"Resuming after {rows:N0} rows ({chunk} checkpoints).");
            shard = ml.Data.SkipRows(shard, rows);
        }

        var scored = model.Transform(shard);
        var columns = BatchScorer.OutputColumns(scored.Schema, inputSchema).Select(c => c.Column).ToArray();
        long scoredNow = 0;
        var watch = Stopwatch.StartNew();
        using (var cursor = scored.GetRowCursor(columns))
        {
            while (true)
            {
                string temporary = Path.Combine(chunks, $"chunk-{chunk:D6}.tmp");
                long written;
                using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
                {
                    written = ParquetSaver.Write(cursor, columns, stream, o.CheckpointRows, o.CheckpointRows);
                    stream.Flush(flushToDisk: true);
                }

                if (written == 0 && chunk > 0)
                {
                    File.Delete(temporary);
                    break;
                }

                File.Move(temporary, Path.Combine(chunks, $"chunk-{chunk++:D6}.parquet"));
                rows += written;
                scoredNow += written;
                progress.Checkpoint(rows);
                progress.Rows(rows, scoredNow / Math.Max(watch.Elapsed.TotalSeconds, 1e-9));
                if (written < o.CheckpointRows)
                {
                    break;
                }
            }
        }

        Merge(ml, chunks, part, o.CheckpointRows);
        var files = ScoringInput.Describe(input, o.Input);
        long inputRows = files.Sum(f => f.Rows);
        if (rows != PartManifest.ExpectedRows(inputRows, o.ShardIndex, o.ShardCount))
        {
            throw new InvalidOperationException(
                $"Shard {o.ShardIndex}/{o.ShardCount} wrote {rows} rows, but {PartManifest.ExpectedRows(inputRows, o.ShardIndex, o.ShardCount)} of the input's {inputRows} fall to it: the input changed during the run.");
        }

        new PartManifest
        {
            Shard = o.ShardIndex,
            Shards = o.ShardCount,
            Part = Path.GetFileName(part),
            Rows = rows,
            Sha256 = PartManifest.HashFile(part),
            Model = Path.GetFileName(o.Model),
            ModelSha256 = PartManifest.HashFile(o.Model),
            Input = Path.GetFileName(Path.TrimEndingDirectorySeparator(o.Input)),
            InputRows = inputRows,
            InputFiles = files,
            RowSelection = $"RowIndex % {o.ShardCount} == {o.ShardIndex}, 0 <= RowIndex < {inputRows}",
            FirstRowIndex = rows > 0 ? o.ShardIndex : -1,
            LastRowIndex = rows > 0 ? o.ShardIndex + ((rows - 1) * o.ShardCount) : -1,
            Columns = columns.Select(c => c.Name).ToArray(),
        }.Write(manifestPath);
        Directory.Delete(chunks, recursive: true);
        double rate = scoredNow / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        progress.Message($"done rows={rows} scored_now={scoredNow} rows_per_s={rate:F0} peak_rss_mb={peak / 1048576} output={part}");
        return new BatchScoringResult(rows, scoredNow, rate, peak);
    }

    /// <summary>Streams the chunks, in order, into the part: written to a temporary name, flushed, renamed.</summary>
    private static void Merge(MLContext ml, string chunks, string part, int rowGroupRows)
    {
        string temporary = part + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            ml.Data.SaveAsParquet(ml.Data.LoadFromParquet(chunks), stream, new ParquetSaverOptions { RowGroupRows = rowGroupRows });
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, part, overwrite: true);
    }
}
