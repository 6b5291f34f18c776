using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace MlNotes.Benchmarks;

/// <summary>
/// The PyTorch side of the trainer benchmarks: runs a script of this folder through tools/with-torch (Debian's torch,
/// OpenBLAS-OpenMP, 2 threads) on the data file the C# side wrote, and reads the JSON line it prints last.
/// Also the command-line helpers the scenarios share.
/// </summary>
internal static class TorchRunner
{
    /// <summary>Per-epoch seconds and the named final metric (e.g. "test_nll", "recall_at_1").</summary>
    public static (double[] Seconds, double Metric) Run(string script, string file, int epochs, string metric)
    {
        string path = Path.Combine("tests", "MlNotes.Benchmarks", script);
        string runner = Path.Combine("tools", "with-torch");
        var start = new ProcessStartInfo(runner) { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(file);
        start.ArgumentList.Add(epochs.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {runner} (run from the repository root).");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{runner} {path} failed with exit code {process.ExitCode}.");
        }

        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var seconds = json.RootElement.GetProperty("epoch_seconds").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < seconds.Length; i++)
        {
            Console.WriteLine($"  PyTorch epoch {i + 1}: {seconds[i]:F3} s");
        }

        return (seconds, json.RootElement.GetProperty(metric).GetDouble());
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]);
    }
}
