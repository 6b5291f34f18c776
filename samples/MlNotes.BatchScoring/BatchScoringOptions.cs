using System;
using System.Collections.Generic;
using System.Globalization;

namespace MlNotes.BatchScoring;

/// <summary>A scoring run, resolved from the command line (Program) and the scheduler's environment.</summary>
public sealed record BatchScoringOptions
{
    public string Model { get; init; } = "";

    public string Input { get; init; } = "";

    /// <summary>A CSV file, or a folder for Parquet parts (<c>part-00003.parquet</c> and its manifest per shard).</summary>
    public string Output { get; init; } = "";

    public string Provider { get; init; } = "cpu";

    public int ShardIndex { get; init; }

    public int ShardCount { get; init; } = 1;

    public bool Resume { get; init; }

    public ProgressMode Progress { get; init; } = ProgressMode.Auto;

    /// <summary>Rows between checkpoints (output flushed, progress file rewritten; one Parquet chunk).</summary>
    public int CheckpointRows { get; init; } = 10_000;

    /// <summary>Whether the output is a folder of Parquet parts (anything but a path ending in .csv).</summary>
    public bool PartitionedOutput => !Output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The shard when <c>--shard</c> is absent: <c>SLURM_ARRAY_TASK_ID</c> (a job array submitted as <c>--array=0-(n-1)</c>) or
    /// Kubernetes' <c>JOB_COMPLETION_INDEX</c>; the count from <c>--shard-count</c>, else <c>SLURM_ARRAY_TASK_COUNT</c>. A
    /// resubmitted single index (<c>sbatch --array=2</c>) sees a task count of 1, so scripts pass <c>--shard-count</c>.
    /// </summary>
    public static (int Index, int Count, string Source) ShardFromEnvironment(IReadOnlyDictionary<string, string?> environment, int? count)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
        string? slurm = Get("SLURM_ARRAY_TASK_ID"), kubernetes = Get("JOB_COMPLETION_INDEX");
        if (slurm == null && kubernetes == null)
        {
            return count is > 1
                ? throw new ArgumentException($"--shard-count {count} needs a shard index: --shard i/n, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX.")
                : (0, 1, "no shard");
        }

        string source = slurm != null ? "SLURM_ARRAY_TASK_ID" : "JOB_COMPLETION_INDEX";
        int index = Number(source, slurm ?? kubernetes!);
        int n = count ?? (slurm != null && Get("SLURM_ARRAY_TASK_COUNT") is { } c ? Number("SLURM_ARRAY_TASK_COUNT", c)
            : throw new ArgumentException($"{source}={index} is set but the shard count is not: pass --shard-count n."));
        if (n < 1 || index < 0 || index >= n)
        {
            throw new ArgumentException($"The shard from {source}={index} is outside 0..{n - 1} (count {n}); submit the array as 0-{n - 1} or pass --shard-count.");
        }

        return (index, n, $"{source}={index}, count {n}");
    }

    public static (int Index, int Count) ParseShard(string text)
    {
        var parts = (text ?? "").Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int index) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int count)
            || count < 1 || index < 0 || index >= count)
        {
            throw new ArgumentException($"--shard takes i/n with 0 <= i < n, got '{text}'.");
        }

        return (index, count);
    }

    private static int Number(string name, string text) => int.TryParse(text, CultureInfo.InvariantCulture, out int value)
        ? value
        : throw new ArgumentException($"{name} must be an integer, got '{text}'.");
}

/// <summary>How progress is shown: a live display on a terminal, periodic plain lines in logs, or nothing.</summary>
public enum ProgressMode
{
    Auto,
    Terminal,
    Plain,
    None,
}
