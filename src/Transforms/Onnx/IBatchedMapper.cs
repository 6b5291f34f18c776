using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// What a batched transformer tells <see cref="BatchedDataView"/> and <see cref="BatchedRowMapper"/>: the columns it adds,
/// the upstream columns it reads, and how to score a batch of rows. The engine and every model family share one cursor.
/// </summary>
internal interface IBatchedMapper
{
    /// <summary>Rows per batch.</summary>
    int BatchSize { get; }

    /// <summary>The input schema followed by the added columns (checked against the input).</summary>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);

    /// <summary>The upstream columns the batch reads when these added columns are active.</summary>
    IEnumerable<string> InputColumns(DataViewSchema inputSchema, bool[] activeOutputs);

    /// <summary>A batch reading <paramref name="source"/>, computing the active added columns.</summary>
    IBatch CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity);

    void ThrowIfDisposed();
}

/// <summary>
/// The batched mapping of a transformer an <see cref="OnnxEstimatorBase{TTransformer}"/> fits: also the shape check of the
/// estimator's <c>GetOutputSchema</c>, made from the same resolved settings as the schema of the data it transforms.
/// </summary>
internal interface IOnnxMapper : IBatchedMapper
{
    /// <summary>The input shape followed by the added columns, after checking the columns read (missing or mismatched ones named).</summary>
    SchemaShape GetOutputSchema(SchemaShape inputSchema);
}

/// <summary>The rows of one batch and the added columns computed for them.</summary>
internal interface IBatch : IDisposable
{
    int Capacity { get; }

    int Count { get; }

    void Clear();

    /// <summary>Reads the source's current row into the next slot.</summary>
    void Add(long position);

    /// <summary>
    /// Reads the source's current row, whose id is <paramref name="id"/>, into the next slot: what the engines call. A batch
    /// whose outputs depend on which row it is (seeded noise) overrides it; the others read the row as <see cref="Add(long)"/>.
    /// </summary>
    void Add(long position, DataViewRowId id) => Add(position);

    /// <summary>Computes the added columns for the rows added since <see cref="Clear"/>.</summary>
    void Run();

    /// <summary>A getter of added column <paramref name="outputIndex"/> for the slot <paramref name="slot"/> returns.</summary>
    Delegate GetGetter(int outputIndex, Func<int> slot);
}
