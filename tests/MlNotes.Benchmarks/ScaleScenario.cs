using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.ML;
using MlNotes.Parquet;

namespace MlNotes.Benchmarks;

/// <summary>
/// The batch command at scale on this machine: 1 process against a 4-task Slurm job array (build/slurm, a real one-node
/// cluster) over the same Parquet rows, and the array again with one task cancelled part-way and resubmitted (it resumes from its
/// checkpoints). Rounds interleave the three; the array with the kill is verified against the single run (lost and duplicate
/// rows counted by <c>verify</c>, every score compared).
/// <c>-- scale [rows=1000000] [rounds=1]</c>; needs root (start.sh installs and starts Slurm).
/// </summary>
internal sealed class ScaleScenario : IScenario
{
    public string Name => "scale";

    public string Description => "batch command: 1 process vs a 4-task Slurm job array, and a killed task's retry (-- scale [rows] [rounds])";

    public int Run(string[] args)
    {
        int rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1;
        string root = RepositoryRoot();
        string tool = Path.Combine(root, "samples", "MlNotes.BatchScoring", "bin", "Release", "net10.0", "MlNotes.BatchScoring.dll");
        if (!File.Exists(tool))
        {
            Console.Error.WriteLine($"Build the batch command first: dotnet build -c Release samples/MlNotes.BatchScoring ({tool} is missing).");
            return 1;
        }

        string folder = Path.Combine(Path.GetTempPath(), "mlnotes-scale-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string scripts = Path.Combine(root, "build", "slurm");
        try
        {
            string model = Path.Combine(folder, "model.zip"), input = Path.Combine(folder, "input.parquet");
            Prepare(model, input, rows);
            Console.WriteLine($"Scale benchmark: {rows:N0} rows (Parquet), {rounds} interleaved round(s), {Environment.ProcessorCount} cores, load average {LoadAverage()}.");
            var (started, startLog) = Script(scripts, tool, "start.sh", []);
            Console.WriteLine(startLog.Trim());
            if (started != 0)
            {
                return 1;
            }

            var single = new List<double>();
            var array = new List<double>();
            var killed = new List<double>();
            var retry = new List<double>();
            long lost = 0, duplicates = 0, mismatched = 0;
            for (int round = 0; round < rounds; round++)
            {
                string reference = Path.Combine(folder, $"single-{round}");
                var watch = Stopwatch.StartNew();
                using (var process = Process.Start(new ProcessStartInfo("dotnet", [tool, "--model", model, "--input", input, "--output", reference, "--progress", "none"]))!)
                {
                    process.WaitForExit();
                    if (process.ExitCode != 0)
                    {
                        return 1;
                    }
                }

                single.Add(watch.Elapsed.TotalSeconds);
                var clean = Script(scripts, tool, "run-array.sh", [model, input, Path.Combine(folder, $"array-{round}"), "4"], killIndex: -1);
                var retried = Script(scripts, tool, "run-array.sh", [model, input, Path.Combine(folder, $"killed-{round}"), "4", reference], killIndex: 2);
                Console.WriteLine(clean.Log.Trim());
                Console.WriteLine(retried.Log.Trim());
                array.Add(Number(clean.Log, "array_s"));
                killed.Add(Number(retried.Log, "array_s"));
                retry.Add(Number(retried.Log, "lost_s"));
                var verify = Regex.Match(retried.Log, @"verify shards=\d+ rows=(\d+) lost_rows=(\d+) duplicate_rows=(\d+) mismatched_rows=(\d+)");
                if (!verify.Success || long.Parse(verify.Groups[1].Value, CultureInfo.InvariantCulture) != rows)
                {
                    Console.Error.WriteLine("verify did not report the rows: " + retried.Log);
                    return 1;
                }

                lost += long.Parse(verify.Groups[2].Value, CultureInfo.InvariantCulture);
                duplicates += long.Parse(verify.Groups[3].Value, CultureInfo.InvariantCulture);
                mismatched += long.Parse(verify.Groups[4].Value, CultureInfo.InvariantCulture);
            }

            Script(scripts, tool, "stop.sh", []);
            double singleRate = rows / Median(single), arrayRate = rows / Median(array);
            Console.WriteLine();
            Console.WriteLine($"| run | seconds (median; min..max) | rows/s |");
            Console.WriteLine($"| --- | --- | --- |");
            Console.WriteLine($"| 1 process | {Median(single):F1}; {single.Min():F1}..{single.Max():F1} | {singleRate:N0} |");
            Console.WriteLine($"| 4-task array | {Median(array):F1}; {array.Min():F1}..{array.Max():F1} | {arrayRate:N0} |");
            Console.WriteLine($"| 4-task array, task 2 cancelled and resubmitted | {Median(killed):F1}; {killed.Min():F1}..{killed.Max():F1} | {rows / Median(killed):N0} |");
            Console.WriteLine($"Time lost to the kill and retry: {Median(retry):F1} s of task time (median; {retry.Min():F1}..{retry.Max():F1}: the killed task's run beyond its kept " +
                $"checkpoints plus the retry's run beyond its rows, at the retry's rate); makespan with the kill minus without: {Median(killed) - Median(array):F1} s. " +
                $"Rows differing from the single run: {mismatched}. Load average {LoadAverage()}.");
            Console.WriteLine($"RESULT scale array_vs_single={arrayRate / singleRate:F2} lost_rows={lost} duplicate_rows={duplicates}");
            return lost == 0 && duplicates == 0 && mismatched == 0 ? 0 : 1;
        }
        finally
        {
            Script(scripts, tool, "stop.sh", []);
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Prepare(string model, string input, int rows)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(1);
        var training = Enumerable.Range(0, 2_000).Select(_ =>
        {
            float a = (float)random.NextDouble(), b = (float)random.NextDouble(), c = (float)random.NextDouble();
            return new Row { A = a, B = b, C = c, Label = (2 * a) - b + (0.5f * c) };
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(training);
        var fitted = ml.Transforms.Concatenate("Features", "A", "B", "C").Append(ml.Regression.Trainers.Sdca(maximumNumberOfIterations: 50)).Fit(data);
        ml.Model.Save(fitted, data.Schema, model);
        var generated = Enumerable.Range(0, rows).Select(_ => new Row { A = (float)random.NextDouble(), B = (float)random.NextDouble(), C = (float)random.NextDouble() });
        using var stream = File.Create(input);
        ml.Data.SaveAsParquet(ml.Data.LoadFromEnumerable(generated), stream, new ParquetSaverOptions { RowGroupRows = 50_000 });
    }

    private static (int Code, string Log) Script(string scripts, string tool, string name, string[] args, int killIndex = -1)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(scripts, name));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MLNOTES_TOOL"] = tool;
        start.Environment["MLNOTES_KILL_INDEX"] = killIndex.ToString(CultureInfo.InvariantCulture);
        start.Environment["MLNOTES_CHECKPOINT_ROWS"] = "20000";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static double Number(string log, string key)
        => double.Parse(Regex.Match(log, key + @"=(-?[0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory != null && !File.Exists(Path.Combine(directory.FullName, "MlNotes.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("MlNotes.sln not found above " + AppContext.BaseDirectory);
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private sealed class Row
    {
        public float A { get; set; }

        public float B { get; set; }

        public float C { get; set; }

        public float Label { get; set; }
    }
}
