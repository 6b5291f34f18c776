using System;

namespace MlNotes.Transforms.Onnx;

/// <summary>Where and how a session runs: a deployment decision, so it is never read from a saved model.</summary>
internal readonly record struct OnnxExecutionSettings(
    OnnxExecutionProvider Provider,
    int GpuDeviceId,
    bool FallbackToCpu,
    int IntraOpNumThreads,
    int InterOpNumThreads)
{
    public static OnnxExecutionSettings Cpu => new(OnnxExecutionProvider.Cpu, 0, false, 0, 0);

    public void Validate()
    {
        if (!Enum.IsDefined(Provider))
        {
            ThrowHelper.BadOption("ExecutionProvider", $"Unknown execution provider {(int)Provider}.");
        }

        if (GpuDeviceId < 0)
        {
            ThrowHelper.BadOption(nameof(GpuDeviceId), $"GpuDeviceId must be 0 or more, got {GpuDeviceId}.");
        }

        if (IntraOpNumThreads < 0)
        {
            ThrowHelper.BadOption(nameof(IntraOpNumThreads), $"IntraOpNumThreads must be 0 (the runtime's default) or more, got {IntraOpNumThreads}.");
        }

        if (InterOpNumThreads < 0)
        {
            ThrowHelper.BadOption(nameof(InterOpNumThreads), $"InterOpNumThreads must be 0 (the runtime's default) or more, got {InterOpNumThreads}.");
        }
    }
}
