using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests;

/// <summary>A fact that needs the CUDA execution provider: skipped where the native runtime in this process has none (CI).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!OnnxSessionFactory.IsAvailable(OnnxExecutionProvider.Cuda))
        {
            Skip = "CudaFact: needs ONNX Runtime's CUDAExecutionProvider (the Microsoft.ML.OnnxRuntime.Gpu native library and a GPU).";
        }
    }
}

/// <summary>A fact about machines without CUDA (what a missing provider does): skipped where CUDA is available.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (OnnxSessionFactory.IsAvailable(OnnxExecutionProvider.Cuda))
        {
            Skip = "NoCudaFact: CUDA is available in this process; the test checks behaviour without it.";
        }
    }
}
