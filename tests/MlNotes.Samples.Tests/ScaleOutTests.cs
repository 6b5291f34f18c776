using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML;
using MlNotes.Parquet;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Samples.Tests;

/// <summary>
/// The batch command's scale-out path, as separate processes: Parquet in, Parquet parts out with their manifests, shards from the
/// scheduler's environment, a killed shard resumed, <c>verify</c> (counts of lost and duplicated rows, checksums, scores against a
/// single-process run), usage errors and exit codes.
/// </summary>
[Collection(nameof(BatchScoringTests))]
public sealed class ScaleOutTests(ITestOutputHelper output) : IDisposable
{
    private const int Rows = 120_000;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnotes-scale-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Parquet_shards_from_the_scheduler_killed_and_resumed_verify_against_a_single_run()
    {
        Directory.CreateDirectory(_folder);
        string model = Path.Combine(_folder, "model.zip");
        BatchScoringTests.TrainAndSave(model);
        string input = WriteParquet(Rows);

        string single = Path.Combine(_folder, "single");
        Assert.Equal(0, Run(["--model", model, "--input", input, "--output", single]).Code);

        // The live display, asked for with the output redirected (Spectre.Console then renders without a live terminal): same result.
        string live = Path.Combine(_folder, "live");
        var terminal = Run(["--model", model, "--input", input, "--output", live, "--progress", "terminal"]);
        Assert.True(terminal.Code == 0, terminal.Log);
        Assert.Contains($"done rows={Rows}", terminal.Log, StringComparison.Ordinal);
        Assert.Equal(0, Run(["verify", live, "--reference", single]).Code);
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(single, "part-00000.json"))).RootElement;
        Assert.Equal(Rows, manifest.GetProperty("Rows").GetInt64());
        Assert.Equal(Rows, manifest.GetProperty("InputRows").GetInt64());
        Assert.Equal(["RowIndex", "Features", "Score"], manifest.GetProperty("Columns").EnumerateArray().Select(c => c.GetString()!).ToArray());
        Assert.False(Directory.Exists(Path.Combine(single, ".part-00000")), "the checkpoints are removed once the part is complete");

        // Three shards: 0 from --shard, 1 from Slurm's variables, 2 from Kubernetes' index with the count given.
        string sharded = Path.Combine(_folder, "sharded");
        Assert.Equal(0, Run(["--model", model, "--input", input, "--output", sharded, "--shard", "0/3"]).Code);
        Assert.Equal(0, Run(["--model", model, "--input", input, "--output", sharded], new() { ["SLURM_ARRAY_TASK_ID"] = "1", ["SLURM_ARRAY_TASK_COUNT"] = "3" }).Code);
        var noCount = Run(["--model", model, "--input", input, "--output", sharded], new() { ["JOB_COMPLETION_INDEX"] = "2" });
        Assert.Equal(2, noCount.Code);
        Assert.Contains("--shard-count", noCount.Log, StringComparison.Ordinal);

        // Before shard 2 exists, verify fails and counts the rows it lacks.
        var partial = Run(["verify", sharded]);
        Assert.Equal(3, partial.Code);
        Assert.Contains($"lost_rows={Rows / 3}", partial.Log, StringComparison.Ordinal);
        Assert.Contains("shard 2 of 3 has no manifest", partial.Log, StringComparison.Ordinal);

        // Shard 2 is killed after its first checkpoints, then resumed: no row lost, none twice, every score equal to the single run.
        using (var process = BatchScoringTests.StartTool(["--model", model, "--input", input, "--output", sharded, "--shard-count", "3", "--checkpoint-rows", "5000", "--progress", "plain"],
            new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "2" }))
        {
            string? line;
            while ((line = process.StandardError.ReadLine()) != null)
            {
                var match = Regex.Match(line, @"^checkpoint rows=(\d+)");
                if (match.Success && long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= 15_000)
                {
                    process.Kill(entireProcessTree: true);
                    break;
                }
            }

            process.WaitForExit();
        }

        Assert.False(File.Exists(Path.Combine(sharded, "part-00002.json")), "a killed shard has no manifest");
        Assert.Equal(3, Run(["verify", sharded]).Code);
        var resumed = Run(["--model", model, "--input", input, "--output", sharded, "--shard-count", "3", "--checkpoint-rows", "5000", "--resume"],
            new() { ["JOB_COMPLETION_INDEX"] = "2" });
        Assert.Equal(0, resumed.Code);
        Assert.Matches(@"Resuming after \d{2},\d{3} rows", resumed.Log);
        var done = Regex.Match(resumed.Log, @"done rows=(\d+) scored_now=(\d+)");
        Assert.Equal(Rows / 3, long.Parse(done.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.True(long.Parse(done.Groups[2].Value, CultureInfo.InvariantCulture) < Rows / 3, "the resumed run scores only what the killed one had not checkpointed");

        var verified = Run(["verify", sharded, "--reference", single]);
        output.WriteLine(verified.Log);
        Assert.Equal(0, verified.Code);
        Assert.Contains($"verify shards=3 rows={Rows} lost_rows=0 duplicate_rows=0 mismatched_rows=0 ok", verified.Log, StringComparison.Ordinal);

        // Resuming a complete shard does nothing; a part changed after the fact is caught by its checksum.
        Assert.Contains("nothing to resume", Run(["--model", model, "--input", input, "--output", sharded, "--shard", "1/3", "--resume"]).Log, StringComparison.Ordinal);
        File.AppendAllText(Path.Combine(sharded, "part-00001.parquet"), "x");
        var tampered = Run(["verify", sharded]);
        Assert.Equal(3, tampered.Code);
        Assert.Contains("part-00001.parquet is not the file its manifest describes", tampered.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_errors_exit_2_naming_the_option_and_help_exits_0()
    {
        Directory.CreateDirectory(_folder);
        string model = Path.Combine(_folder, "model.zip");
        File.WriteAllText(model, "not read: the arguments are refused first");
        var missing = Run(["--input", model, "--output", _folder]);
        Assert.Equal(2, missing.Code);
        Assert.Contains("--model", missing.Log, StringComparison.Ordinal);
        var shard = Run(["--model", model, "--input", model, "--output", _folder, "--shard", "3/3"]);
        Assert.Equal(2, shard.Code);
        Assert.Contains("--shard takes i/n with 0 <= i < n, got '3/3'", shard.Log, StringComparison.Ordinal);
        var outOfRange = Run(["--model", model, "--input", model, "--output", _folder], new() { ["SLURM_ARRAY_TASK_ID"] = "4", ["SLURM_ARRAY_TASK_COUNT"] = "4" });
        Assert.Equal(2, outOfRange.Code);
        Assert.Contains("SLURM_ARRAY_TASK_ID=4 is outside 0..3", outOfRange.Log, StringComparison.Ordinal);
        Assert.Equal(2, Run(["--model", model, "--input", model, "--output", _folder, "--checkpoint-rows", "0"]).Code);
        // Rows per model run are each saved transform's own batch size: the command has no --batch-size to ignore.
        var batchSize = Run(["--model", model, "--input", model, "--output", _folder, "--batch-size", "64"]);
        Assert.Equal(2, batchSize.Code);
        Assert.Contains("--batch-size", batchSize.Log, StringComparison.Ordinal);
        Assert.Equal(2, Run(["--model", model, "--input", model, "--output", _folder, "--provider", "tpu"]).Code);
        var help = Run(["--help"]);
        Assert.Equal(0, help.Code);
        Assert.Contains("verify", help.Log, StringComparison.Ordinal);
        Assert.Equal(3, Run(["verify", _folder]).Code);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private string WriteParquet(int count)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(7);
        var rows = Enumerable.Range(0, count).Select(_ => new BatchScoringTests.Row { A = (float)random.NextDouble(), B = (float)random.NextDouble(), C = (float)random.NextDouble() });
        string path = Path.Combine(_folder, "input.parquet");
        using var stream = File.Create(path);
        ml.Data.SaveAsParquet(ml.Data.LoadFromEnumerable(rows), stream, new ParquetSaverOptions { RowGroupRows = 10_000 });
        return path;
    }

    private static (int Code, string Log) Run(string[] args, Dictionary<string, string>? environment = null)
    {
        using var process = BatchScoringTests.StartTool(args.Concat(args.Length > 0 && args[0] is "verify" or "--help" || args.Contains("--progress") ? [] : new[] { "--progress", "plain" }), environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        string log = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + log);
    }
}
