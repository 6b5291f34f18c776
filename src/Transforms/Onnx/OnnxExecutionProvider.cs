namespace MlNotes.Transforms.Onnx;

/// <summary>The ONNX Runtime execution provider a model runs on.</summary>
/// <remarks>
/// The CPU provider ships with every ONNX Runtime package. The others need the matching native runtime in the
/// application: <c>Microsoft.ML.OnnxRuntime.Gpu</c> (or <c>.Gpu.Linux</c>/<c>.Gpu.Windows</c>) for CUDA and TensorRT,
/// <c>Microsoft.ML.OnnxRuntime.DirectML</c> for DirectML, <c>Intel.ML.OnnxRuntime.OpenVino</c> for OpenVINO.
/// </remarks>
public enum OnnxExecutionProvider
{
    /// <summary>The CPU provider (always available).</summary>
    Cpu = 0,

    /// <summary>NVIDIA CUDA.</summary>
    Cuda = 1,

    /// <summary>NVIDIA TensorRT (nodes TensorRT cannot run fall to CUDA, then CPU).</summary>
    TensorRt = 2,

    /// <summary>DirectML (Windows, any DirectX 12 GPU).</summary>
    DirectMl = 3,

    /// <summary>Intel OpenVINO.</summary>
    OpenVino = 4,
}
