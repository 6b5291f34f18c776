using System;
using System.Reflection;
using System.Runtime.ExceptionServices;
using MlNotes.Transforms.Inspect;
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

    /// <summary>
    /// Inspects an ONNX graph before it is wrapped: its inputs and outputs (element types, fixed and symbolic dimensions, a fixed
    /// batch axis), its opsets, producer and metadata; guesses its family and the tensors' roles; says what it could not decide
    /// (mean and std, channel order, pixel range, class names, pooling, ...). <see cref="OnnxModelReport.WriteManifest"/> writes a
    /// starting manifest that the family's transform reads (docs/inspect.md). The graph is loaded, not run.
    /// </summary>
    /// <param name="catalog">The model operations catalog.</param>
    /// <param name="modelPath">An .onnx file, or an exported model folder (sentence-transformers, Optimum) with its <c>model.onnx</c> and tokenizer files.</param>
    /// <param name="family">The family to take the graph for instead of the guess, or null to guess.</param>
    /// <returns>The report.</returns>
    /// <exception cref="System.IO.FileNotFoundException">The file, or the folder's model.onnx, does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">The file is not an ONNX model, naming it.</exception>
    public static OnnxModelReport InspectOnnx(this ModelOperationsCatalog catalog, string modelPath, OnnxModelFamily? family = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(modelPath);
        return OnnxModelInspector.Inspect(modelPath, family);
    }
}
