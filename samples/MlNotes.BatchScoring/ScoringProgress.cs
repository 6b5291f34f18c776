using System;
using System.IO;
using Spectre.Console;

namespace MlNotes.BatchScoring;

/// <summary>
/// What a run tells as it goes. Plain lines (<c>progress rows=…</c> every second, <c>checkpoint rows=…</c> at each checkpoint,
/// <c>done …</c> at the end) for logs and CI; a Spectre.Console progress bar on a terminal.
/// </summary>
internal class ScoringProgress(TextWriter log, bool periodic)
{
    public TextWriter Log { get; } = log;

    /// <summary>Picks the display: a terminal gets the live one unless plain lines or none are asked for.</summary>
    public static bool UseTerminal(ProgressMode mode)
        => mode == ProgressMode.Terminal || (mode == ProgressMode.Auto && !Console.IsErrorRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")) && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb"));

    public virtual void Started(long? shardRows, long alreadyDone)
    {
    }

    public virtual void Rows(long rows, double rowsPerSecond)
    {
        if (periodic)
        {
            Log.WriteLine($"progress rows={rows} rows_per_s={rowsPerSecond:F0} rss_mb={Environment.WorkingSet / 1048576}");
        }
    }

    public virtual void Checkpoint(long rows)
    {
        if (periodic)
        {
            Log.WriteLine($"checkpoint rows={rows}");
        }
    }

    public virtual void Message(string text) => Log.WriteLine(text);
}

/// <summary>The live display: one progress task over the shard's rows (indeterminate when the count is not known up front).</summary>
internal sealed class TerminalProgress(IAnsiConsole console, ProgressTask task, TextWriter log) : ScoringProgress(log, periodic: false)
{
    public override void Started(long? shardRows, long alreadyDone)
    {
        task.IsIndeterminate = shardRows == null;
        task.MaxValue = shardRows ?? 1;
        task.Value = alreadyDone;
    }

    public override void Rows(long rows, double rowsPerSecond)
    {
        task.Value = rows;
        task.Description = $"scoring {rows:N0} rows, {rowsPerSecond:N0} rows/s";
    }

    public override void Message(string text) => console.MarkupLine(Markup.Escape(text));
}
