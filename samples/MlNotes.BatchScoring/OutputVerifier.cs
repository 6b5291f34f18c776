using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML;

namespace MlNotes.BatchScoring;

/// <summary>
/// <c>verify out/</c>: every shard has its manifest, its part matches the manifest's checksum and row count, all manifests agree
/// (shard count, model, input), and the parts' <c>RowIndex</c> values, counted, cover every input row exactly once. With a
/// reference output (another run of the same model on the same input, any shard count) every row's scores are compared too.
/// </summary>
internal static class OutputVerifier
{
    public static VerifyResult Verify(string folder, string? reference, TextWriter log)
    {
        var problems = new List<string>();
        var manifests = Manifests(folder, problems);
        long lost = 0, duplicates = 0, strays = 0, rows = 0, mismatched = 0;
        if (manifests.Count > 0)
        {
            var first = manifests.Values.First();
            for (int shard = 0; shard < first.Shards; shard++)
            {
                if (!manifests.TryGetValue(shard, out var m))
                {
                    lost += PartManifest.ExpectedRows(first.InputRows, shard, first.Shards);
                    problems.Add($"shard {shard} of {first.Shards} has no manifest ({PartManifest.ManifestName(shard)}): not run, or not finished" +
                        (Directory.Exists(Path.Combine(folder, $".part-{shard:D5}")) ? " (its checkpoints are there: rerun it with --resume)" : ""));
                    continue;
                }

                var count = CountRows(folder, m, problems);
                rows += count.Rows;
                lost += count.Lost;
                duplicates += count.Duplicates;
                strays += count.Strays;
            }

            if (reference != null && problems.Count == 0)
            {
                mismatched = Compare(folder, manifests, reference, problems);
            }
        }

        foreach (string problem in problems)
        {
            log.WriteLine("problem: " + problem);
        }

        var result = new VerifyResult(problems.Count == 0, manifests.Count, rows, lost, duplicates + strays, mismatched);
        log.WriteLine($"verify shards={result.Shards} rows={rows} lost_rows={lost} duplicate_rows={duplicates + strays} mismatched_rows={mismatched} {(result.Ok ? "ok" : "FAILED")}");
        return result;
    }

    private static SortedDictionary<int, PartManifest> Manifests(string folder, List<string> problems)
    {
        var manifests = new SortedDictionary<int, PartManifest>();
        if (!Directory.Exists(folder))
        {
            problems.Add($"'{folder}' is not a folder");
            return manifests;
        }

        foreach (string path in Directory.EnumerateFiles(folder, "part-*.json").Order(StringComparer.Ordinal))
        {
            var m = PartManifest.Read(path);
            if (m.Format != PartManifest.CurrentFormat)
            {
                problems.Add($"{Path.GetFileName(path)} has format '{m.Format}', expected '{PartManifest.CurrentFormat}'");
                continue;
            }

            manifests[m.Shard] = m;
        }

        if (manifests.Count == 0)
        {
            problems.Add($"'{folder}' holds no part manifest (part-*.json)");
            return manifests;
        }

        var first = manifests.Values.First();
        foreach (var m in manifests.Values)
        {
            if (m.Shards != first.Shards || m.ModelSha256 != first.ModelSha256 || m.InputRows != first.InputRows || m.Input != first.Input)
            {
                problems.Add($"{PartManifest.ManifestName(m.Shard)} disagrees with {PartManifest.ManifestName(first.Shard)}: shards {m.Shards} vs {first.Shards}, " +
                    $"model {m.ModelSha256[..12]} vs {first.ModelSha256[..12]}, input {m.Input} ({m.InputRows} rows) vs {first.Input} ({first.InputRows} rows)");
            }
        }

        return manifests;
    }

    /// <summary>Counts the part's rows against the rows its shard owns: each owned row seen once, none missing, none foreign.</summary>
    private static (long Rows, long Lost, long Duplicates, long Strays) CountRows(string folder, PartManifest m, List<string> problems)
    {
        string part = Path.Combine(folder, m.Part);
        long expected = PartManifest.ExpectedRows(m.InputRows, m.Shard, m.Shards);
        if (!File.Exists(part) || PartManifest.HashFile(part) != m.Sha256)
        {
            problems.Add($"{m.Part} is {(File.Exists(part) ? "not the file its manifest describes (SHA-256 differs)" : "missing")}");
            return (0, expected, 0, 0);
        }

        var ml = new MLContext();
        var view = ml.Data.LoadFromParquet(part);
        var seen = new BitArray(checked((int)Math.Max(expected, 1)));
        long rows = 0, duplicates = 0, strays = 0, found = 0;
        using (var cursor = view.GetRowCursor([view.Schema[ShardDataView.RowIndexColumn]]))
        {
            var getter = cursor.GetGetter<long>(view.Schema[ShardDataView.RowIndexColumn]);
            long index = 0;
            while (cursor.MoveNext())
            {
                getter(ref index);
                rows++;
                if (index < 0 || index >= m.InputRows || index % m.Shards != m.Shard)
                {
                    strays++;
                }
                else if (seen[(int)(index / m.Shards)])
                {
                    duplicates++;
                }
                else
                {
                    seen[(int)(index / m.Shards)] = true;
                    found++;
                }
            }
        }

        long lost = expected - found;
        if (rows != m.Rows)
        {
            problems.Add($"{m.Part} has {rows} rows, its manifest says {m.Rows}");
        }

        if (lost != 0 || duplicates != 0 || strays != 0)
        {
            problems.Add($"{m.Part}: {lost} of its {expected} input rows missing, {duplicates} written twice, {strays} that belong to another shard or to no input row");
        }

        return (rows, lost, duplicates, strays);
    }

    /// <summary>Walks both outputs in input order (row r is in shard r % n) and compares every column of every row.</summary>
    private static long Compare(string folder, SortedDictionary<int, PartManifest> manifests, string reference, List<string> problems)
    {
        var other = Manifests(reference, problems);
        if (problems.Count > 0)
        {
            return 0;
        }

        using var left = new InputOrder(folder, manifests);
        using var right = new InputOrder(reference, other);
        if (!left.Header.SequenceEqual(right.Header))
        {
            problems.Add($"the columns differ: {string.Join(",", left.Header)} vs {string.Join(",", right.Header)} in '{reference}'");
            return 0;
        }

        long mismatched = 0, total = manifests.Values.First().InputRows;
        if (other.Values.First().InputRows != total)
        {
            problems.Add($"'{reference}' covers {other.Values.First().InputRows} input rows, '{folder}' {total}");
            return 0;
        }

        for (long r = 0; r < total; r++)
        {
            string a = left.Row(r), b = right.Row(r);
            if (a != b && mismatched++ < 3)
            {
                problems.Add($"row {r} differs: {a} vs {b} in '{reference}'");
            }
        }

        if (mismatched > 3)
        {
            problems.Add($"{mismatched} rows differ from '{reference}' in all");
        }

        return mismatched;
    }

    /// <summary>The parts of one output read as one stream of rows in input order, each rendered as its CSV line.</summary>
    private sealed class InputOrder : IDisposable
    {
        private readonly DataViewRowCursor[] _cursors;
        private readonly Action<StringBuilder>[][] _writers;
        private readonly ValueGetter<long>[] _index;
        private readonly StringBuilder _line = new();

        public InputOrder(string folder, SortedDictionary<int, PartManifest> manifests)
        {
            var ml = new MLContext();
            int shards = manifests.Values.First().Shards;
            _cursors = new DataViewRowCursor[shards];
            _writers = new Action<StringBuilder>[shards][];
            _index = new ValueGetter<long>[shards];
            Header = [];
            for (int s = 0; s < shards; s++)
            {
                var view = ml.Data.LoadFromParquet(Path.Combine(folder, manifests[s].Part));
                var columns = view.Schema.Where(c => c.Name != ShardDataView.RowIndexColumn).Select(c => new OutputColumn(c)).ToArray();
                Header = columns.SelectMany(c => c.Headers).ToArray();
                _cursors[s] = view.GetRowCursor(view.Schema);
                _writers[s] = columns.Select(c => c.MakeWriter(_cursors[s])).ToArray();
                _index[s] = _cursors[s].GetGetter<long>(view.Schema[ShardDataView.RowIndexColumn]);
            }
        }

        public string[] Header { get; private set; }

        public string Row(long r)
        {
            int s = (int)(r % _cursors.Length);
            long index = -1;
            if (_cursors[s].MoveNext())
            {
                _index[s](ref index);
            }

            if (index != r)
            {
                return $"<no row {r}>";
            }

            _line.Clear();
            foreach (var write in _writers[s])
            {
                write(_line);
                _line.Append(',');
            }

            return _line.ToString();
        }

        public void Dispose()
        {
            foreach (var cursor in _cursors)
            {
                cursor.Dispose();
            }
        }
    }
}

/// <summary>What <c>verify</c> found.</summary>
public sealed record VerifyResult(bool Ok, int Shards, long Rows, long LostRows, long DuplicateRows, long MismatchedRows);
