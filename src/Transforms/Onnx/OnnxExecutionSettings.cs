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

    /// <summary>
    /// MlNotes' intra-op default (docs/threads.md): one thread per CPU this process may use (<see cref="Environment.ProcessorCount"/>,
    /// which follows the affinity mask, cgroup CPU limits and DOTNET_PROCESSOR_COUNT), passed to ONNX Runtime as an explicit count.
    /// ONNX Runtime's own default (0) counts the physical cores the hypervisor reports and pins its pool threads to them, which made
    /// the same graph run at one thread or at two depending on the topology a VM exposed that day.
    /// </summary>
    public static int DefaultIntraOpNumThreads => Environment.ProcessorCount;

    /// <summary>The intra-op thread count the session gets: a count the user set as is, else <see cref="DefaultIntraOpNumThreads"/>.</summary>
    public int ResolvedIntraOpNumThreads => IntraOpNumThreads > 0 ? IntraOpNumThreads : DefaultIntraOpNumThreads;

    /// <summary>
    /// Whether idle pool threads spin: ONNX Runtime's behaviour (on) for a count the user set, so that an explicit count runs as a
    /// raw session with that count does; off for MlNotes' default, where spinning threads on a shared machine took the time slices
    /// the work needed (docs/threads.md).
    /// </summary>
    public bool ResolvedAllowSpinning => IntraOpNumThreads > 0;

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
            ThrowHelper.BadOption(nameof(IntraOpNumThreads), $"IntraOpNumThreads must be 0 (the default: MlNotes', one thread per CPU this process may use) or more, got intra-op {IntraOpNumThreads}, inter-op {InterOpNumThreads}.");
        }

        if (InterOpNumThreads < 0)
        {
            ThrowHelper.BadOption(nameof(InterOpNumThreads), $"InterOpNumThreads must be 0 (the default: ONNX Runtime's) or more, got intra-op {IntraOpNumThreads}, inter-op {InterOpNumThreads}.");
        }
    }
}
