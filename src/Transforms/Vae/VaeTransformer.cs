using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// What the VAE transformers share: a lazy batched <c>Transform</c>, <c>PredictionEngine</c> support, persistence of the
/// graphs and settings in the model zip, and disposal of the native sessions.
/// </summary>
public abstract class VaeTransformer : ITransformer, IDisposable
{
    private protected VaeTransformer(VaeMapper mapper) => Mapper = mapper;

    /// <summary>The size of the latent vector.</summary>
    public int LatentSize => Mapper.Config.LatentSize;

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    /// <summary>The execution provider the sessions actually run on.</summary>
    public OnnxExecutionProvider ExecutionProvider => Mapper.ExecutionProvider;

    /// <summary>True: <c>PredictionEngine</c> works.</summary>
    public bool IsRowToRowMapper => true;

    internal VaeMapper Mapper { get; }

    /// <summary>The input schema plus the added columns.</summary>
    /// <param name="inputSchema">The schema of the data to transform.</param>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type or size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Mapper.GetOutputSchema(inputSchema);

    /// <summary>Transforms <paramref name="input"/> lazily, in batches.</summary>
    /// <param name="input">The data to transform.</param>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type or size.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Mapper.ThrowIfDisposed();
        return new BatchedDataView(Mapper, input);
    }

    /// <summary>A row-to-row mapper for <c>PredictionEngine</c>.</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Mapper.ThrowIfDisposed();
        Mapper.AddOwner(); // released when the engine disposes this transformer
        return new BatchedRowMapper(Mapper, inputSchema);
    }

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        Mapper.Dispose();
        GC.SuppressFinalize(this);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        Mapper.Save(ctx);
    }

    /// <summary>
    /// v2 (0x00010002): the config field by field, and seeded noise keyed by the upstream row's id. v1 (0x00010001): the config
    /// as JSON, noise keyed by the row's position; still read, and its noise is still keyed by position.
    /// </summary>
    internal const uint FieldsVersion = 0x00010002;

    private protected abstract VersionInfo GetVersionInfo();

    private protected static VersionInfo Version(string modelSignature, string loaderSignature) => new(
        modelSignature: modelSignature,
        verWrittenCur: FieldsVersion,
        verReadableCur: FieldsVersion,
        verWeCanReadBack: 0x00010001,
        loaderSignature: loaderSignature,
        loaderAssemblyName: typeof(VaeTransformer).Assembly.FullName);
}
