namespace MlNotes.Transforms.Onnx;

/// <summary>
/// What every MlNotes ONNX component is told about its model and where it runs; each estimator's <c>Options</c> adds its own.
/// </summary>
public abstract class OnnxModelOptions
{
    /// <summary>Path of the ONNX model. Give this or <see cref="ModelBytes"/>. Apply models only from trusted sources.</summary>
    public string? ModelFile { get; set; }

    /// <summary>The ONNX model itself. Give this or <see cref="ModelFile"/>.</summary>
    public byte[]? ModelBytes { get; set; }

    /// <summary>The execution provider to run on (the CPU by default).</summary>
    public OnnxExecutionProvider ExecutionProvider { get; set; }

    /// <summary>The GPU to run on, for the GPU providers.</summary>
    public int GpuDeviceId { get; set; }

    /// <summary>Run on the CPU when <see cref="ExecutionProvider"/> is not available, instead of throwing <see cref="System.NotSupportedException"/>.</summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>Threads inside one operator; 0 lets ONNX Runtime choose (one per physical core). With several cursors, 1 each is usually best.</summary>
    public int IntraOpNumThreads { get; set; }

    /// <summary>Threads across independent operators; 0 lets ONNX Runtime choose.</summary>
    public int InterOpNumThreads { get; set; }

    internal OnnxExecutionSettings ExecutionSettings => new(ExecutionProvider, GpuDeviceId, FallbackToCpu, IntraOpNumThreads, InterOpNumThreads);
}
