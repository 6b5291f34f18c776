using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// What every MlNotes transformer over ONNX Runtime sessions shares: a lazy batched <c>Transform</c>, <c>PredictionEngine</c>
/// support, saving into the model zip, and the sessions' ownership. The sealed transformers of each model family derive from it.
/// </summary>
/// <remarks>
/// <para>Sessions are reference-counted: every <c>Fit</c> returns a transformer of its own (the transformers of one estimator share
/// one session while any of them holds it), a <c>PredictionEngine</c> made on a
/// transformer shares in it (it disposes the transformer it was made on, as ML.NET's engines do, leaving it to the other owners),
/// and cursors and engines keep the session alive while they run. Once the last owner has disposed it, using the transformer throws
/// <see cref="ObjectDisposedException"/> naming it.</para>
/// <para>Apply models only from trusted sources: an ONNX graph is code that ONNX Runtime executes.</para>
/// </remarks>
public abstract class OnnxTransformerBase : ITransformer, IDisposable
{
    private readonly ISessionMapper? _stateMapper;
    private readonly VersionInfo _stateVersion;

    private protected OnnxTransformerBase()
    {
    }

    /// <summary>
    /// A transformer whose whole state is <paramref name="mapper"/> (its sessions, batches and entry), written in the format
    /// <paramref name="version"/>: <see cref="Sessions"/>, <see cref="BatchedMapper"/>, <see cref="Version"/> and
    /// <see cref="SaveModel"/> come from them, so the sealed type adds only its typed properties, <see cref="Reopen"/> and its loader.
    /// </summary>
    private protected OnnxTransformerBase(ISessionMapper mapper, VersionInfo version)
    {
        _stateMapper = mapper;
        _stateVersion = version;
    }

    /// <summary>The execution provider the sessions actually run on (after any fallback to the CPU).</summary>
    public OnnxExecutionProvider ExecutionProvider => Sessions[0].ExecutionProvider;

    /// <summary>True: the transformer maps rows one to one, so <c>PredictionEngine</c> works.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The sessions this transformer owns a share in (one per graph); a transformer built without a mapper overrides it.</summary>
    internal virtual IReadOnlyList<OnnxModel> Sessions => _stateMapper!.Models;

    /// <summary>The batched mapping: the columns added and how a batch computes them; a transformer built without a mapper overrides it.</summary>
    internal virtual IOnnxMapper BatchedMapper => _stateMapper!;

    /// <summary>The format this transformer writes (and its loader reads back); a transformer built without a mapper overrides it.</summary>
    private protected virtual VersionInfo Version => _stateVersion;

    /// <summary>The input schema plus the added columns.</summary>
    /// <param name="inputSchema">The schema of the data to transform.</param>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type or size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return BatchedMapper.GetOutputSchema(inputSchema);
    }

    /// <summary>Transforms <paramref name="input"/> lazily, in batches: one ONNX Runtime run per batch of rows, in their order.</summary>
    /// <param name="input">The data to transform.</param>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        return new BatchedDataView(BatchedMapper, input, Sessions[0].WarnFullReread);
    }

    /// <summary>A row-to-row mapper that scores one row at a time (what <c>PredictionEngine</c> uses); the engine shares in the sessions.</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ThrowIfDisposed();
        var mapper = new BatchedRowMapper(BatchedMapper, inputSchema);
        foreach (var session in Sessions)
        {
            session.AddOwner(); // released when the engine disposes this transformer
        }

        return mapper;
    }

    /// <summary>Releases this owner's share in the sessions; idempotent once the last owner has released it.</summary>
    public void Dispose()
    {
        foreach (var session in Sessions)
        {
            session.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version);
        SaveModel(ctx);
    }

    internal void ThrowIfDisposed()
    {
        foreach (var session in Sessions)
        {
            session.ThrowIfDisposed();
        }
    }

    /// <summary>A new transformer of the same settings over sessions of the same graphs (shared with the other transformers reopened from this one while they live): what an estimator's <c>Fit</c> returns.</summary>
    internal abstract OnnxTransformerBase Reopen();

    /// <summary>Writes the graphs and the settings, after the version header; a transformer built without a mapper overrides it.</summary>
    private protected virtual void SaveModel(ModelSaveContext ctx) => _stateMapper!.Save(ctx);

    /// <summary>
    /// A loader's common part: checks the version, reads the one graph, and builds the transformer from it; the session is
    /// disposed when the rest of the entry turns out to be corrupt.
    /// </summary>
    private protected static T Load<T>(IHostEnvironment env, ModelLoadContext ctx, VersionInfo version, string name, Func<IHost, OnnxModel, T> build)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(version);
        var host = env.Register(name);
        return OnnxModel.LoadAll(env, host, ctx, new[] { OnnxModel.ModelStreamName }, models => build(host, models[0]!));
    }
}
