using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace MlNotes.Samples.Report;

/// <summary>
/// Follows a trainer through ML.NET's log (<see cref="MLContext.Log"/>): the MDN and InfoNCE trainers report each epoch there.
/// Prints a progress line every tenth of the epochs and keeps each reported number (loss, recall, ...) per epoch for the curves.
/// </summary>
public sealed partial class TrainingProgress : IDisposable
{
    private readonly MLContext _ml;
    private readonly string _prefix;
    private readonly int _epochs;
    private readonly Action<string> _print;
    private readonly DateTime _start = DateTime.UtcNow;
    private DateTime _lastPrint = DateTime.UtcNow;

    public TrainingProgress(MLContext ml, string prefix, int epochs, Action<string> print)
    {
        _ml = ml ?? throw new ArgumentNullException(nameof(ml));
        _prefix = prefix;
        _epochs = epochs;
        _print = print;
        _ml.Log += OnLog;
    }

    /// <summary>Per quantity named in the log line (e.g. "loss", "validation NLL"), its value at each epoch.</summary>
    public Dictionary<string, List<double>> Series { get; } = new();

    public int EpochsSeen { get; private set; }

    public void Dispose() => _ml.Log -= OnLog;

    private void OnLog(object? sender, LoggingEventArgs e)
    {
        // ML.NET prefixes the channel's name; the trainers write "<prefix> epoch N: name value, name value (s)".
        int at = e.Message.IndexOf(_prefix + " epoch ", StringComparison.Ordinal);
        if (at < 0)
        {
            return;
        }

        var match = EpochLine().Match(e.Message[at..]);
        if (!match.Success)
        {
            return;
        }

        int epoch = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        EpochsSeen = epoch;
        foreach (Match pair in NameValue().Matches(match.Groups[2].Value))
        {
            string name = pair.Groups[1].Value.Trim();
            if (!Series.TryGetValue(name, out var values))
            {
                Series[name] = values = new List<double>();
            }

            values.Add(double.Parse(pair.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        // A line a second at most, and the last epoch: quick trainings print one line, long ones show they are moving.
        var now = DateTime.UtcNow;
        if (epoch == _epochs || now - _lastPrint >= TimeSpan.FromSeconds(1))
        {
            _lastPrint = now;
            _print($"   {_prefix} epoch {epoch}/{_epochs} ({100.0 * epoch / _epochs:F0}%, {(DateTime.UtcNow - _start).TotalSeconds:F1} s): {match.Groups[2].Value.Trim()}");
        }
    }

    [GeneratedRegex(@"epoch (\d+): (.*?)(\(\d+(\.\d+)? s\))?$")]
    private static partial Regex EpochLine();

    [GeneratedRegex(@"([A-Za-z@][A-Za-z0-9@ ]*?) (-?\d+(\.\d+)?(E[-+]?\d+)?)")]
    private static partial Regex NameValue();
}
