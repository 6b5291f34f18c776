using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace MlNotes.Serving;

/// <summary>The one place MlNotes.Serving builds its exceptions.</summary>
[StackTraceHidden]
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void BadOption(string optionName, string message)
        => throw new ArgumentOutOfRangeException(optionName, message);

    public static ObjectDisposedException Disposed(string name)
        => new(name, $"The prediction pool '{name}' is disposed or shutting down: it takes no new calls.");

    public static PredictionQueueFullException QueueFull(string name, int capacity)
        => new($"The prediction pool '{name}' has {capacity} calls waiting (MaxQueueLength): the call is refused at once; retry later or raise MaxQueueLength.");

    [DoesNotReturn]
    public static void InvalidOperation(string message, Exception? inner = null)
        => throw new InvalidOperationException(message, inner);
}
