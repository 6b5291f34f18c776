using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(OnnxScoringTransformer), null, typeof(SignatureLoadModel),
    "MlNotes batched ONNX scoring", OnnxScoringTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// Scores an ONNX model over an <see cref="IDataView"/> in batches: one ONNX Runtime run per <see cref="BatchSize"/> rows.
/// Created by <see cref="OnnxScoringEstimator"/> (<c>mlContext.Transforms.ApplyOnnxModelBatched</c>).
/// </summary>
/// <remarks>
/// <para><see cref="OnnxTransformerBase.Transform"/> is lazy and streaming: memory stays proportional to the batch size whatever the row count,
/// rows come back in their input order, and outputs no consumer reads are never computed.</para>
/// <para>The ONNX model is saved inside the ML.NET model zip. A loaded model runs where the loading context says
/// (<see cref="MLContext.GpuDeviceId"/>, <see cref="MLContext.FallbackToCpu"/>, or the explicit options of
/// <c>LoadWithExecutionProvider</c>), never where the saving machine ran it.</para>
/// <para>Apply models only from trusted sources: an ONNX graph is code that ONNX Runtime executes.</para>
/// <para>The transformer owns a native session: dispose it when done.</para>
/// </remarks>
public sealed class OnnxScoringTransformer : OnnxTransformerBase, IOnnxMapper
{
    internal const string LoaderSignature = "MlNotesOnnxScoring";

    private readonly IHost _host;
    private readonly OnnxModel _model;

    internal OnnxScoringTransformer(IHostEnvironment env, OnnxScoringEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(OnnxScoringTransformer));
        CheckBatchSize(options.BatchSize);
        byte[] bytes = OnnxModel.ReadBytes(options.ModelFile, options.ModelBytes, out string name);
        var settings = options.ExecutionSettings;
        _model = OnnxModel.Create(_host, bytes, name, settings, fromSavedModel: false);
        (Inputs, Outputs, BatchSize) = BindOrDispose(_model, options.InputColumnNames, options.InputTensorNames,
            options.OutputColumnNames, options.OutputTensorNames, options.BatchSize);
    }

    private OnnxScoringTransformer(IHost host, OnnxModel model, string[] inputColumns, string[] inputTensors,
        string[] outputColumns, string[] outputTensors, int batchSize)
    {
        _host = host;
        _model = model;
        (Inputs, Outputs, BatchSize) = BindOrDispose(model, inputColumns, inputTensors, outputColumns, outputTensors, batchSize);
    }

    internal override OnnxTransformerBase Reopen() => new OnnxScoringTransformer(_host, _model.Reopen(),
        Inputs.Select(b => b.ColumnName).ToArray(), Inputs.Select(b => b.Tensor.Name).ToArray(),
        Outputs.Select(b => b.ColumnName).ToArray(), Outputs.Select(b => b.Tensor.Name).ToArray(), BatchSize);

    /// <summary>Rows per ONNX Runtime run (1 when the graph fixes its batch axis to 1).</summary>
    public int BatchSize { get; }

    /// <summary>The columns read, one per graph input.</summary>
    public IReadOnlyList<string> InputColumnNames => Inputs.Select(b => b.ColumnName).ToArray();

    /// <summary>The columns added, one per mapped graph output.</summary>
    public IReadOnlyList<string> OutputColumnNames => Outputs.Select(b => b.ColumnName).ToArray();

    internal override IReadOnlyList<OnnxModel> Sessions => [_model];

    internal override IOnnxMapper BatchedMapper => this;

    private protected override VersionInfo Version => GetVersionInfo();

    internal IReadOnlyList<OnnxColumnBinding> Inputs { get; }

    internal IReadOnlyList<OnnxColumnBinding> Outputs { get; }

    internal string ModelName => _model.Name;

    internal OnnxModel Model => _model;

    /// <summary>ONNX Runtime runs made so far (tests and benchmarks read it).</summary>
    internal long RunCount => _model.RunCount;

    DataViewSchema IBatchedMapper.GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var binding in Inputs)
        {
            OnnxBindings.CheckInputColumn(inputSchema, binding, _model.Name);
        }

        return SchemaShapes.Append(inputSchema, OutputColumnsSchema());
    }

    SchemaShape IOnnxMapper.GetOutputSchema(SchemaShape inputSchema) => SchemaShapes.Extend(inputSchema,
        Inputs.Select(b => new ColumnRead(b.ColumnName,
            column => column.ItemType.Equals(b.Tensor.ItemType) && (column.Kind != SchemaShape.Column.VectorKind.Scalar || b.Tensor.RowElements == 1),
            $"{b.Tensor.TypeText} (ONNX input '{b.Tensor.Name}' {b.Tensor.ShapeText})")),
        SchemaShapes.Of(OutputColumnsSchema()));

    /// <summary>One column per mapped graph output, of the tensor's type.</summary>
    private DataViewSchema OutputColumnsSchema()
    {
        var builder = new DataViewSchema.Builder();
        foreach (var binding in Outputs)
        {
            builder.AddColumn(binding.ColumnName, binding.Tensor.ColumnType);
        }

        return builder.ToSchema();
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        _model.Save(ctx);
        OnnxBindings.Save(ctx, Inputs);
        OnnxBindings.Save(ctx, Outputs);
        ctx.Writer.Write(BatchSize);
    }

    IEnumerable<string> IBatchedMapper.InputColumns(DataViewSchema inputSchema, bool[] activeOutputs)
        => Inputs.Select(b => b.ColumnName);

    IBatch IBatchedMapper.CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity)
        => new OnnxBatch(_model, Inputs.Select(b => OnnxBatch.FromColumn(b, source, capacity)).ToArray(), Outputs, activeOutputs, capacity);

    void IBatchedMapper.ThrowIfDisposed() => ThrowIfDisposed();

    internal static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1)
        {
            ThrowHelper.BadOption(nameof(OnnxScoringEstimator.Options.BatchSize), $"BatchSize must be at least 1, got {batchSize}.");
        }
    }

    private static (OnnxColumnBinding[] Inputs, OnnxColumnBinding[] Outputs, int BatchSize) BindOrDispose(OnnxModel model,
        IReadOnlyList<string>? inputColumns, IReadOnlyList<string>? inputTensors, IReadOnlyList<string>? outputColumns, IReadOnlyList<string>? outputTensors, int batchSize)
    {
        try
        {
            var inputs = OnnxBindings.Bind(model.InputMetadata, inputColumns, inputTensors, model.Name, isInput: true);
            var outputs = OnnxBindings.Bind(model.OutputMetadata, outputColumns, outputTensors, model.Name, isInput: false);
            return (inputs, outputs, OnnxBindings.EffectiveBatchSize(inputs.Concat(outputs), batchSize));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNONNXS", LoaderSignature);

    // Found by ML.NET's ComponentCatalog through the LoadableClass attribute above.
    private static OnnxScoringTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => Load(env, ctx, GetVersionInfo(), nameof(OnnxScoringTransformer), (host, model) =>
        {
            var (inputColumns, inputTensors) = OnnxBindings.Load(ctx, model, isInput: true);
            var (outputColumns, outputTensors) = OnnxBindings.Load(ctx, model, isInput: false);
            int batchSize = ModelEntry.Read(ctx, ctx.Reader.ReadInt32);
            ModelEntry.Check(ctx, batchSize >= 1, $"its batch size is {batchSize}, not at least 1");
            return new OnnxScoringTransformer(host, model, inputColumns, inputTensors, outputColumns, outputTensors, batchSize);
        });
}
