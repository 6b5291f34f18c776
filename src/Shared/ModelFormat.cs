using Microsoft.ML;

namespace MlNotes;

/// <summary>
/// The version header every MlNotes component writes into a model zip (ML.NET's <see cref="VersionInfo"/>): a format number that
/// grows by one when the saved fields change, a loader that reads every earlier number back to the first, and this assembly as the
/// loader's. Compiled into each MlNotes assembly, so the loader assembly is the component's own.
/// </summary>
internal static class ModelFormat
{
    /// <summary>The first format of every component.</summary>
    public const uint First = 0x00010001;

    /// <summary>The header of a component written in format <paramref name="current"/> and read back from <see cref="First"/> on.</summary>
    /// <param name="modelSignature">The eight-character model signature.</param>
    /// <param name="loaderSignature">The loader signature of the component's <c>LoadableClass</c> attribute.</param>
    /// <param name="current">The format written now (and the newest readable).</param>
    public static VersionInfo Version(string modelSignature, string loaderSignature, uint current = First) => new(
        modelSignature: modelSignature,
        verWrittenCur: current,
        verReadableCur: current,
        verWeCanReadBack: First,
        loaderSignature: loaderSignature,
        loaderAssemblyName: typeof(ModelFormat).Assembly.FullName);
}
