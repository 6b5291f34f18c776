using System;
using System.Collections;
using System.CommandLine;
using System.Collections.Generic;
using System.IO;
using Spectre.Console;

namespace MlNotes.BatchScoring;

/// <summary>
/// <c>mlnotes-score</c> (this assembly: <c>dotnet MlNotes.BatchScoring.dll</c>): scores a saved model over CSV, Parquet or images;
/// <c>mlnotes-score verify out/</c> checks a partitioned output. Exit codes: 0 done (verify: all shards complete and exact),
/// 1 the run failed (bad data, model, I/O: the message says which), 2 bad usage (the message and the help say why),
/// 3 verify found a problem (each printed). A task killed by its scheduler ends by its signal (143 for SIGTERM, 137 for SIGKILL);
/// rerun it with <c>--resume</c>.
/// </summary>
internal static class Program
{
    public const int Ok = 0, Failed = 1, Usage = 2, VerifyFailed = 3;

    private static int Main(string[] args)
    {
        var root = Commands();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine(error.Message);
            }

            Console.Error.WriteLine("Run with --help for the options.");
            return Usage;
        }

        return parse.Invoke();
    }

    internal static RootCommand Commands()
    {
        var model = new Option<FileInfo>("--model") { Description = "The saved ML.NET model (.zip).", Required = true };
        var input = new Option<string>("--input") { Description = "A CSV file, a Parquet file or folder of *.parquet, or a folder of images.", Required = true };
        var output = new Option<string>("--output") { Description = "A folder for Parquet parts (part-00003.parquet + part-00003.json per shard), or a .csv file.", Required = true };
        var provider = new Option<string>("--provider") { Description = "Execution provider (falls back to CPU).", DefaultValueFactory = _ => "cpu" };
        provider.AcceptOnlyFromAmong("cpu", "cuda");
        var shard = new Option<string?>("--shard") { Description = "i/n: score the rows whose index modulo n is i. Default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX." };
        var shardCount = new Option<int?>("--shard-count") { Description = "n when the index comes from the scheduler (default: SLURM_ARRAY_TASK_COUNT; needed for JOB_COMPLETION_INDEX)." };
        var resume = new Option<bool>("--resume") { Description = "Carry on after the last checkpoint of an earlier run of this shard (nothing to do if complete)." };
        var progress = new Option<ProgressMode>("--progress") { Description = "auto: a live display on a terminal, plain lines otherwise.", DefaultValueFactory = _ => ProgressMode.Auto };
        var noProgress = new Option<bool>("--no-progress") { Description = "Same as --progress none." };
        var checkpointRows = new Option<int>("--checkpoint-rows") { Description = "Rows between checkpoints.", DefaultValueFactory = _ => 10_000 };
        checkpointRows.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError($"{checkpointRows.Name} must be at least 1, got {r.GetValueOrDefault<int>()}.");
            }
        });

        model.AcceptExistingOnly();
        input.Validators.Add(r =>
        {
            string path = r.GetValueOrDefault<string>() ?? "";
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                r.AddError($"The input '{path}' does not exist.");
            }
        });
        shard.Validators.Add(r =>
        {
            try
            {
                _ = BatchScoringOptions.ParseShard(r.GetValueOrDefault<string>()!);
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });

        var root = new RootCommand("mlnotes-score: batch scoring of a saved ML.NET model, sharded for Slurm job arrays and Kubernetes Indexed Jobs.")
        {
            model, input, output, provider, shard, shardCount, resume, progress, noProgress, checkpointRows,
        };
        root.SetAction(parsed =>
        {
            BatchScoringOptions options;
            try
            {
                var (index, count, _) = parsed.GetValue(shard) is { } text
                    ? (BatchScoringOptions.ParseShard(text) is var s ? (s.Index, s.Count, "--shard") : default)
                    : BatchScoringOptions.ShardFromEnvironment(Environment(), parsed.GetValue(shardCount));
                options = new BatchScoringOptions
                {
                    Model = parsed.GetValue(model)!.FullName,
                    Input = parsed.GetValue(input)!,
                    Output = parsed.GetValue(output)!,
                    Provider = parsed.GetValue(provider)!,
                    ShardIndex = index,
                    ShardCount = count,
                    Resume = parsed.GetValue(resume),
                    Progress = parsed.GetValue(noProgress) ? ProgressMode.None : parsed.GetValue(progress),
                    CheckpointRows = parsed.GetValue(checkpointRows),
                };
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return Usage;
            }

            return Score(options);
        });

        var folder = new Argument<DirectoryInfo>("folder") { Description = "The output folder of a partitioned run." };
        var reference = new Option<DirectoryInfo?>("--reference") { Description = "Another output of the same model and input (e.g. a single-process run): every row's scores must be equal." };
        var verify = new Command("verify", "Check that every shard is present and complete, and that the parts cover the input exactly once.") { folder, reference };
        verify.SetAction(parsed =>
        {
            var result = OutputVerifier.Verify(parsed.GetValue(folder)!.FullName, parsed.GetValue(reference)?.FullName, Console.Out);
            return result.Ok ? Ok : VerifyFailed;
        });
        root.Subcommands.Add(verify);
        return root;
    }

    private static int Score(BatchScoringOptions options)
    {
        try
        {
            if (options.Progress != ProgressMode.None && ScoringProgress.UseTerminal(options.Progress))
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                console.Progress().Start(context =>
                    BatchScorer.Run(options, new TerminalProgress(console, context.AddTask($"shard {options.ShardIndex}/{options.ShardCount}"), Console.Error)));
            }
            else
            {
                BatchScorer.Run(options, new ScoringProgress(Console.Error, periodic: options.Progress != ProgressMode.None));
            }

            return Ok;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or IOException or FormatException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"mlnotes-score: {e.Message}");
            return Failed;
        }
    }

    private static Dictionary<string, string?> Environment()
    {
        var variables = new Dictionary<string, string?>();
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = entry.Value as string;
        }

        return variables;
    }
}
