using System;
using System.Threading;

namespace MlNotes.Transforms.Onnx;

/// <summary>Execution settings that a load call asks for explicitly; they win over the loading context's.</summary>
internal static class OnnxLoadScope
{
    private static readonly AsyncLocal<OnnxExecutionSettings?> s_current = new();

    public static OnnxExecutionSettings? Current => s_current.Value;

    public static IDisposable Enter(OnnxExecutionSettings settings)
    {
        var previous = s_current.Value;
        s_current.Value = settings;
        return new Exit(previous);
    }

    private sealed class Exit(OnnxExecutionSettings? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
