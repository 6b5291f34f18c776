using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The batched mapping the image classifier and the image encoder share: one image column in (checked against the input schema),
/// the transformer's columns out, and the count of images that could not be read. The columns and the batch are the transformer's.
/// </summary>
internal sealed class ImageMapper : IOnnxMapper
{
    private readonly OnnxTransformerBase _owner;
    private readonly Func<DataViewSchema> _addedColumns;
    private readonly Func<DataViewRow, bool[], int, IBatch> _createBatch;
    private long _errorCount;

    /// <param name="owner">The transformer: its disposal is this mapping's.</param>
    /// <param name="input">The image column and how its rows are read.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="addedColumns">The columns the transformer adds, in schema order.</param>
    /// <param name="createBatch">The transformer's batch over a source row, the active added columns and a capacity.</param>
    public ImageMapper(OnnxTransformerBase owner, ImageInput input, int batchSize, Func<DataViewSchema> addedColumns, Func<DataViewRow, bool[], int, IBatch> createBatch)
    {
        _owner = owner;
        Input = input;
        BatchSize = batchSize;
        _addedColumns = addedColumns;
        _createBatch = createBatch;
    }

    public ImageInput Input { get; }

    public int BatchSize { get; }

    /// <summary>Rows whose image could not be read, over every view, cursor and pass.</summary>
    public long ErrorCount => Interlocked.Read(ref _errorCount);

    /// <summary>Returns <see cref="ErrorCount"/> and sets it back to 0.</summary>
    public long ResetErrorCount() => Interlocked.Exchange(ref _errorCount, 0);

    /// <summary>Counts one row whose image could not be read (with ContinueOnError).</summary>
    public void CountError() => Interlocked.Increment(ref _errorCount);

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Input.CheckColumn(inputSchema);
        return SchemaShapes.Append(inputSchema, _addedColumns());
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => SchemaShapes.Extend(inputSchema, [SchemaShapes.ImageRead(Input.ColumnName)], SchemaShapes.Of(_addedColumns()));

    public IEnumerable<string> InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => Input.Columns(inputSchema);

    public IBatch CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => _createBatch(source, activeOutputs, capacity);

    public void ThrowIfDisposed() => _owner.ThrowIfDisposed();

    /// <summary>
    /// Opens an image model as an estimator does: the manifest (given, or the one beside the graph) checked for the family, the
    /// graph's session, and the settings resolved against both; the session is disposed again when anything is refused.
    /// </summary>
    /// <param name="host">The transformer's host.</param>
    /// <param name="options">The estimator's options.</param>
    /// <param name="catalogMethod">The catalog method, named in a family mismatch.</param>
    /// <param name="resolve">Resolves and checks the settings (and binds the tensors) against the manifest and the session.</param>
    /// <param name="families">The manifest families the transform reads.</param>
    public static (OnnxModel Model, TConfig Config) Open<TConfig>(IHost host, OnnxImageModelOptions options, string catalogMethod, Func<ModelManifest?, OnnxModel, TConfig> resolve, params string[] families)
    {
        var manifest = options.ManifestFile != null ? ModelManifest.Load(options.ManifestFile) : ModelManifest.Beside(options.ModelFile);
        ManifestFields.CheckFamily(manifest, catalogMethod, families);
        byte[] bytes = OnnxModel.ReadBytes(options.ModelFile, options.ModelBytes, out string name);
        var model = OnnxModel.Create(host, bytes, name, options.ExecutionSettings, fromSavedModel: false);
        try
        {
            manifest?.Validate(model);
            return (model, resolve(manifest, model));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
