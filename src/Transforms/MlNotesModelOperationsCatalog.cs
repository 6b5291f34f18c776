using System;
using System.Reflection;
using System.Runtime.ExceptionServices;
using MlNotes.Transforms.Onnx;

namespace Microsoft.ML;

/// <summary>MlNotes' additions to <c>mlContext.Model</c>.</summary>
public static class MlNotesModelOperationsCatalog
{
    /// <summary>
    /// Loads a saved model whose ONNX components run on <paramref name="executionProvider"/>, whatever the loading
    /// context's <see cref="MLContext.GpuDeviceId"/> says.
    /// </summary>
    /// <param name="catalog">The model operations catalog.</param>
    /// <param name="filePath">The model zip.</param>
    /// <param name="executionProvider">Where the ONNX components run.</param>
    /// <param name="gpuDeviceId">The GPU, for GPU providers.</param>
    /// <param name="fallbackToCpu">Run on the CPU when the provider is not available, instead of throwing.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <returns>The loaded model.</returns>
    /// <exception cref="NotSupportedException">The provider is not available and <paramref name="fallbackToCpu"/> is false.</exception>
    /// <exception cref="FormatException">The model zip is corrupt (for example its ONNX bytes were altered): the message names the zip, the entry and the problem.</exception>
    public static ITransformer LoadWithExecutionProvider(this ModelOperationsCatalog catalog, string filePath,
        OnnxExecutionProvider executionProvider, int gpuDeviceId, bool fallbackToCpu, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(filePath);
        var settings = new OnnxExecutionSettings(executionProvider, gpuDeviceId, fallbackToCpu, 0, 0);
        settings.Validate();
        using (OnnxLoadScope.Enter(settings))
        {
            try
            {
                return catalog.Load(filePath, out inputSchema);
            }
            catch (TargetInvocationException e) when (e.InnerException is FormatException corrupt)
            {
                // ML.NET calls loaders through reflection: one FormatException naming the zip as well as the entry and the problem.
                throw new FormatException($"The model zip '{filePath}' cannot be loaded: {corrupt.Message}", corrupt);
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                // Surface the loader's own exception (NotSupportedException for a provider that is not available, say).
                ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }
}
