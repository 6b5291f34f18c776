using System;
using System.Globalization;
using System.IO;

namespace MlNotes.BatchScoring;

/// <summary>The command line: --model, --input, --output, --batch-size, --provider, --shard i/n, --resume, --progress.</summary>
public sealed record BatchScoringOptions
{
    public string Model { get; init; } = "";

    public string Input { get; init; } = "";

    public string Output { get; init; } = "";

    public int BatchSize { get; init; } = 256;

    public string Provider { get; init; } = "cpu";

    public int ShardIndex { get; init; }

    public int ShardCount { get; init; } = 1;

    public bool Resume { get; init; }

    public bool Progress { get; init; } = true;

    /// <summary>Rows between checkpoints (output flushed, progress file rewritten).</summary>
    public int CheckpointRows { get; init; } = 10_000;

    public static BatchScoringOptions Parse(string[] args)
    {
        var o = new BatchScoringOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--model" => o with { Model = Next() },
                "--input" => o with { Input = Next() },
                "--output" => o with { Output = Next() },
                "--batch-size" => o with { BatchSize = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--provider" => o with { Provider = Next().ToLowerInvariant() },
                "--shard" => ParseShard(o, Next()),
                "--resume" => o with { Resume = true },
                "--no-progress" => o with { Progress = false },
                "--checkpoint-rows" => o with { CheckpointRows = int.Parse(Next(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'."),
            };
        }

        if (o.Model.Length == 0 || o.Input.Length == 0 || o.Output.Length == 0)
        {
            throw new ArgumentException("--model, --input and --output are required.");
        }

        if (!File.Exists(o.Model))
        {
            throw new FileNotFoundException($"The model '{o.Model}' does not exist.", o.Model);
        }

        if (!File.Exists(o.Input) && !Directory.Exists(o.Input))
        {
            throw new FileNotFoundException($"The input '{o.Input}' does not exist.", o.Input);
        }

        if (o.BatchSize < 1 || o.CheckpointRows < 1)
        {
            throw new ArgumentException("--batch-size and --checkpoint-rows must be at least 1.");
        }

        if (o.Provider is not ("cpu" or "cuda"))
        {
            throw new ArgumentException($"--provider must be cpu or cuda, got '{o.Provider}'.");
        }

        return o;
    }

    private static BatchScoringOptions ParseShard(BatchScoringOptions o, string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int index) || !int.TryParse(parts[1], out int count) || count < 1 || index < 0 || index >= count)
        {
            throw new ArgumentException($"--shard takes i/n with 0 <= i < n, got '{text}'.");
        }

        return o with { ShardIndex = index, ShardCount = count };
    }
}
