using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.ML;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Samples.Tests;

/// <summary>The batch scoring command, run as the separate process a data team would run, on a million generated rows.</summary>
[Collection(nameof(BatchScoringTests))]
[CollectionDefinition(nameof(BatchScoringTests), DisableParallelization = true)]
public sealed class BatchScoringTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnotes-batch-" + Guid.NewGuid().ToString("N"));

    public sealed class Row
    {
        public float A { get; set; }

        public float B { get; set; }

        public float C { get; set; }

        public float Label { get; set; }
    }

    [Fact]
    public void AMillionRows_ConstantMemory_KillAndResume_AndShardsEqualOneRun()
    {
        Directory.CreateDirectory(_folder);
        string model = Path.Combine(_folder, "model.zip");
        TrainAndSave(model);
        string million = WriteCsv("million.csv", 1_000_000);
        string small = WriteCsv("small.csv", 100_000);

        var full = Score(model, million, "full.csv");
        var few = Score(model, small, "small-out.csv");
        output.WriteLine($"1,000,000 rows: {full.RowsPerSecond:N0} rows/s, peak RSS {full.PeakMb} MB; 100,000 rows: peak RSS {few.PeakMb} MB");
        Assert.Equal(1_000_001, File.ReadLines(Path.Combine(_folder, "full.csv")).Count());
        Assert.True(full.PeakMb < (few.PeakMb * 1.25) + 40, $"peak RSS grew with the input: {few.PeakMb} MB at 100k rows, {full.PeakMb} MB at 1M rows");

        // Killed after a checkpoint, then resumed: the output is byte for byte the one of a single run.
        string resumed = Path.Combine(_folder, "resumed.csv");
        using (var process = Start(model, million, resumed, "--checkpoint-rows", "20000"))
        {
            string? line;
            while ((line = process.StandardError.ReadLine()) != null)
            {
                var match = Regex.Match(line, @"^checkpoint rows=(\d+)");
                if (match.Success && long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= 200_000)
                {
                    process.Kill(entireProcessTree: true);
                    break;
                }
            }

            process.WaitForExit();
        }

        long before = File.ReadLines(resumed).LongCount();
        Assert.InRange(before, 200_001, 999_999);
        Score(model, million, "resumed.csv", "--resume");
        Assert.Equal(File.ReadAllBytes(Path.Combine(_folder, "full.csv")), File.ReadAllBytes(resumed));

        // Two shards: their union, ordered by input row, is the single run.
        Score(model, million, "shard0.csv", "--shard", "0/2");
        Score(model, million, "shard1.csv", "--shard", "1/2");
        var union = File.ReadLines(Path.Combine(_folder, "shard0.csv")).Skip(1).Concat(File.ReadLines(Path.Combine(_folder, "shard1.csv")).Skip(1))
            .OrderBy(l => long.Parse(l[..l.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
        Assert.Equal(File.ReadLines(Path.Combine(_folder, "full.csv")).Skip(1), union);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    internal static void TrainAndSave(string path)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(1);
        var rows = Enumerable.Range(0, 2_000).Select(_ =>
        {
            float a = (float)random.NextDouble(), b = (float)random.NextDouble(), c = (float)random.NextDouble();
            return new Row { A = a, B = b, C = c, Label = (2 * a) - b + (0.5f * c) + (float)(random.NextDouble() * 0.01) };
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Concatenate("Features", "A", "B", "C")
            .Append(ml.Regression.Trainers.Sdca(maximumNumberOfIterations: 50))
            .Fit(data);
        var schema = ml.Data.LoadFromEnumerable(Array.Empty<Row>()).Schema;
        ml.Model.Save(model, schema, path);
    }

    private string WriteCsv(string name, int count)
    {
        string path = Path.Combine(_folder, name);
        var random = new Random(7);
        using var writer = new StreamWriter(path) { NewLine = "\n" };
        writer.WriteLine("A,B,C,Label");
        for (int i = 0; i < count; i++)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{random.NextDouble():F5},{random.NextDouble():F5},{random.NextDouble():F5},0"));
        }

        return path;
    }

    private (double RowsPerSecond, long PeakMb) Score(string model, string input, string outputName, params string[] extra)
    {
        using var process = Start(model, input, Path.Combine(_folder, outputName), extra);
        string log = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"batch scoring failed: {log}");
        var done = Regex.Match(log, @"done rows=\d+ scored_now=\d+ rows_per_s=(\d+) peak_rss_mb=(\d+)");
        Assert.True(done.Success, log);
        return (double.Parse(done.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(done.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    internal static Process Start(string model, string input, string output, params string[] extra)
        => StartTool(new List<string> { "--model", model, "--input", input, "--output", output }.Concat(extra));

    /// <summary>The batch command's built dll (tests run it as the separate process a data team runs).</summary>
    internal static string Tool()
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tool = Path.Combine(SampleContext.FindRepositoryRoot(AppContext.BaseDirectory), "samples", "MlNotes.BatchScoring", "bin",
            tests.Parent!.Name, tests.Name, "MlNotes.BatchScoring.dll");
        Assert.True(File.Exists(tool), $"the batch scoring tool was not built: {tool}");
        return tool;
    }

    internal static Process StartTool(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Tool());
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }
}
