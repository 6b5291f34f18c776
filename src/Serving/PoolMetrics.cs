using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace MlNotes.Serving;

/// <summary>
/// The pool's instruments on the meter <c>MlNotes.Serving</c> (OpenTelemetry: <c>AddMeter("MlNotes.Serving")</c>), each
/// tagged <c>mlnotes.model</c> with the pool's name.
/// </summary>
internal sealed class PoolMetrics : IDisposable
{
    public const string MeterName = "MlNotes.Serving";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _model;
    private readonly Histogram<double> _queueTime;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _rows;
    private readonly Counter<long> _errors;

    public PoolMetrics(string name, IMeterFactory? factory, Func<int> queueLength)
    {
        _ownsMeter = factory == null;
        _model = new("mlnotes.model", name);
        // One meter per pool (the factory caches meters by name and tags): two pools' instruments never merge.
        var options = new MeterOptions(MeterName) { Tags = [_model] };
        _meter = factory?.Create(options) ?? new Meter(options);
        _queueTime = _meter.CreateHistogram<double>("mlnotes.serving.queue_time", "ms", "Time from a call's arrival to the start of its batch.");
        _batchSize = _meter.CreateHistogram<int>("mlnotes.serving.batch_size", "{row}", "Rows per scored batch.");
        _rows = _meter.CreateCounter<long>("mlnotes.serving.rows", "{row}", "Rows scored (a rate of it is rows/s).");
        _errors = _meter.CreateCounter<long>("mlnotes.serving.errors", "{error}", "Failed calls and reloads, by error.type: row, queue_full, reload.");
        _meter.CreateObservableGauge("mlnotes.serving.queue_length", () => new Measurement<int>(queueLength(), _model), "{call}", "Calls waiting.");
    }

    public void Batch(int rows)
    {
        _batchSize.Record(rows, _model);
        _rows.Add(rows, _model);
    }

    public void QueueTime(TimeSpan waited) => _queueTime.Record(waited.TotalMilliseconds, _model);

    public void Error(string type) => _errors.Add(1, _model, new KeyValuePair<string, object?>("error.type", type));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
