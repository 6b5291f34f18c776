using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;

namespace MlNotes.Serving.Tests;

/// <summary>Collects the MlNotes.Serving measurements of one pool (by its mlnotes.model tag).</summary>
internal sealed class PoolMetricsListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _model;
    private readonly ConcurrentQueue<(string Instrument, double Value, string? ErrorType)> _values = new();

    public PoolMetricsListener(string model)
    {
        _model = model;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "MlNotes.Serving")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public IReadOnlyList<double> Values(string instrument) => _values.Where(v => v.Instrument == instrument).Select(v => v.Value).ToArray();

    public IReadOnlyList<string?> Errors() => _values.Where(v => v.Instrument == "mlnotes.serving.errors").Select(v => v.ErrorType).ToArray();

    public int[] BatchSizes() => Values("mlnotes.serving.batch_size").Select(v => (int)v).ToArray();

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? model = null, error = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "mlnotes.model")
            {
                model = tag.Value as string;
            }
            else if (tag.Key == "error.type")
            {
                error = tag.Value as string;
            }
        }

        if (model == _model)
        {
            _values.Enqueue((instrument.Name, value, error));
        }
    }
}
