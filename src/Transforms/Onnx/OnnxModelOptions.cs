using Microsoft.ML.Runtime;

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

    /// <summary>
    /// Threads inside one operator. 0 (the default) gives one thread per CPU this process may use (<see cref="System.Environment.ProcessorCount"/>),
    /// set as an explicit count, so ONNX Runtime pins no thread to a core, and with pool threads that sleep instead of spinning when idle;
    /// not ONNX Runtime's own default, which counts the physical cores it detects (one on a VM that reports its vCPUs as hyperthreads)
    /// and pins its threads. Any other value is passed to ONNX Runtime as is (its pool threads then spin, as in a raw session).
    /// Set 1 when you read through a cursor set (one cursor per core) or when other processes keep the cores busy; see docs/threads.md.
    /// </summary>
    public int IntraOpNumThreads { get; set; }

    /// <summary>Threads across independent operators, used only by ONNX Runtime's parallel execution mode (MlNotes runs graphs sequentially); 0 lets ONNX Runtime choose.</summary>
    public int InterOpNumThreads { get; set; }

    internal OnnxExecutionSettings ExecutionSettings => new(ExecutionProvider, GpuDeviceId, FallbackToCpu, IntraOpNumThreads, InterOpNumThreads);

    /// <summary>
    /// The copy a component keeps, every array property copied too (model bytes, class names, normalization), so that later
    /// changes by the caller do not leak in; an option added later is copied without another line.
    /// </summary>
    internal OnnxModelOptions Copy()
    {
        var copy = (OnnxModelOptions)MemberwiseClone();
        foreach (var property in GetType().GetProperties())
        {
            if (property.PropertyType.IsArray && property.CanWrite && property.GetValue(this) is System.Array array)
            {
                property.SetValue(copy, array.Clone());
            }
        }

        return copy;
    }

    /// <summary>The <see cref="Copy()"/> of <paramref name="options"/>, after checking both arguments for null.</summary>
    internal static TOptions Copy<TOptions>(IHostEnvironment env, TOptions options)
        where TOptions : OnnxModelOptions
    {
        System.ArgumentNullException.ThrowIfNull(env);
        System.ArgumentNullException.ThrowIfNull(options);
        return (TOptions)options.Copy();
    }
}
