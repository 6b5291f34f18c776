using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Parquet;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Samples.Tests;

/// <summary>
/// The batch command under a real Slurm (build/slurm): a 4-task job array, one task cancelled part-way and resubmitted (it
/// resumes), then verify against a single-process run: every row once, every score equal. The daemons are stopped afterwards.
/// </summary>
[Collection(nameof(BatchScoringTests))]
public sealed class SlurmArrayTests(ITestOutputHelper output) : IDisposable
{
    private const int Rows = 200_000;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnotes-slurm-test-" + Guid.NewGuid().ToString("N"));
    private readonly string _scripts = Path.Combine(SampleContext.FindRepositoryRoot(AppContext.BaseDirectory), "build", "slurm");

    [SlurmFact]
    public void A_job_array_with_a_cancelled_and_resubmitted_task_equals_a_single_run()
    {
        Directory.CreateDirectory(_folder);
        string model = Path.Combine(_folder, "model.zip");
        BatchScoringTests.TrainAndSave(model);
        var ml = new MLContext(seed: 1);
        var random = new Random(11);
        string input = Path.Combine(_folder, "input.parquet");
        using (var stream = File.Create(input))
        {
            var rows = Enumerable.Range(0, Rows).Select(_ => new BatchScoringTests.Row { A = (float)random.NextDouble(), B = (float)random.NextDouble(), C = (float)random.NextDouble() });
            ml.Data.SaveAsParquet(ml.Data.LoadFromEnumerable(rows), stream, new ParquetSaverOptions { RowGroupRows = 5_000 });
        }

        string single = Path.Combine(_folder, "single");
        using (var process = BatchScoringTests.StartTool(["--model", model, "--input", input, "--output", single, "--progress", "none"]))
        {
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
        }

        var (started, startLog) = Script("start.sh");
        Assert.True(started == 0, $"Slurm did not start here (root with apt-get or an installed slurm-wlm is needed): {startLog}");
        try
        {
            var (code, log) = Script("run-array.sh", model, input, Path.Combine(_folder, "array"), "4", single);
            output.WriteLine(log);
            Assert.True(code == 0, log);
            // Killed part-way: fewer of shard 2's 100 checkpoints (50,000 rows, 500 each) kept than it needed; the retry resumed.
            // (With 10,000 rows a shard, a quiet machine once wrote all 20 checkpoints between the poll that saw 2 and the scancel.)
            var killed = System.Text.RegularExpressions.Regex.Match(log, @"slurm killed task=\S+ at_s=\S+ checkpoints_kept=(\d+)");
            Assert.True(killed.Success, log);
            Assert.InRange(int.Parse(killed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 2, 99);
            Assert.Contains($"verify shards=4 rows={Rows} lost_rows=0 duplicate_rows=0 mismatched_rows=0 ok", log, StringComparison.Ordinal);
        }
        finally
        {
            Script("stop.sh");
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private (int Code, string Log) Script(string name, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(_scripts, name));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MLNOTES_TOOL"] = BatchScoringTests.Tool();
        start.Environment["MLNOTES_CHECKPOINT_ROWS"] = "500";
        start.Environment["MLNOTES_TIMEOUT_S"] = "240";
        start.Environment["MLNOTES_SLURM_DIR"] = Path.Combine(_folder, "cluster");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
