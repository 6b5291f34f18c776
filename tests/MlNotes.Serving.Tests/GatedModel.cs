using System;
using System.IO;
using System.Threading;
using Microsoft.ML;
using Xunit;

namespace MlNotes.Serving.Tests;

public sealed class GateRow
{
    public float X { get; set; }

    /// <summary>The worker stops on this row until the gate opens: the pool is then busy, and calls queue.</summary>
    public bool Hold { get; set; }
}

public sealed class GateOutput
{
    public float Y { get; set; }
}

/// <summary>
/// A plain ML.NET model (no ONNX): Y = slope X + 1, through CustomMapping. Each row with Hold blocks the worker until one
/// <see cref="Open"/>; a NaN X throws (a bad row). <see cref="WaitEntered"/> waits until the worker is inside a held row.
/// </summary>
internal sealed class GatedModel : IDisposable
{
    private readonly SemaphoreSlim _gate = new(0);
    private readonly SemaphoreSlim _entered = new(0);

    public GatedModel(MLContext ml, float slope = 2)
    {
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<GateRow>());
        Model = ml.Transforms.CustomMapping<GateRow, GateOutput>((input, output) =>
        {
            if (input.Hold)
            {
                _entered.Release();
                if (!_gate.Wait(TimeSpan.FromSeconds(20)))
                {
                    throw new TimeoutException("the test never opened the gate");
                }
            }

            if (float.IsNaN(input.X))
            {
                throw new InvalidDataException("X is NaN");
            }

            output.Y = (slope * input.X) + 1;
        }, contractName: null).Fit(empty);
    }

    public ITransformer Model { get; }

    /// <summary>Blocks until the worker is inside a held row.</summary>
    public void WaitEntered() => Assert.True(_entered.Wait(TimeSpan.FromSeconds(20)), "the worker never reached the held row");

    public void Open() => _gate.Release();

    public void Dispose()
    {
        _gate.Release(100);
        _gate.Dispose();
        _entered.Dispose();
    }
}
