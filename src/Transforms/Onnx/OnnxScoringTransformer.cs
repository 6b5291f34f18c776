using System;
using System.Collections.Generic;

using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Internal.Utilities;
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
/// <para><see cref="Transform"/> is lazy and streaming: memory stays proportional to the batch size whatever the row count,
/// rows come back in their input order, and outputs no consumer reads are never computed.</para>
/// <para>The ONNX model is saved inside the ML.NET model zip. A loaded model runs where the loading context says
/// (<see cref="MLContext.GpuDeviceId"/>, <see cref="MLContext.FallbackToCpu"/>, or the explicit options of
/// <c>LoadWithExecutionProvider</c>), never where the saving machine ran it.</para>
/// <para>Apply models only from trusted sources: an ONNX graph is code that ONNX Runtime executes.</para>
/// <para>The transformer owns a native session: dispose it when done.</para>
/// </remarks>
public sealed class OnnxScoringTransformer : ITransformer, IDisposable
{
    internal const string LoaderSignature = "MlNotesOnnxScoring";
    private const string ModelStreamName = "OnnxModel";

    private readonly IHost _host;
    private readonly byte[] _modelBytes;
    private readonly int _intraOpNumThreads;
    private readonly int _interOpNumThreads;
    private InferenceSession? _session;
    private long _runCount;

    internal OnnxScoringTransformer(IHostEnvironment env, OnnxScoringEstimator.Options options)
        : this(env, LoadBytes(options, out string modelName), modelName, options.InputColumnNames, options.InputTensorNames,
            options.OutputColumnNames, options.OutputTensorNames, options.BatchSize,
            new OnnxExecutionSettings(options.ExecutionProvider, options.GpuDeviceId, options.FallbackToCpu, options.IntraOpNumThreads, options.InterOpNumThreads),
            fromSavedModel: false)
    {
    }

    private OnnxScoringTransformer(IHostEnvironment env, byte[] modelBytes, string modelName,
        IReadOnlyList<string>? inputColumns, IReadOnlyList<string>? inputTensors,
        IReadOnlyList<string>? outputColumns, IReadOnlyList<string>? outputTensors,
        int batchSize, OnnxExecutionSettings settings, bool fromSavedModel)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(OnnxScoringTransformer));
        if (batchSize < 1)
        {
            ThrowHelper.BadOption(nameof(OnnxScoringEstimator.Options.BatchSize), $"BatchSize must be at least 1, got {batchSize}.");
        }

        _modelBytes = modelBytes;
        _intraOpNumThreads = settings.IntraOpNumThreads;
        _interOpNumThreads = settings.InterOpNumThreads;
        ModelName = modelName;
        _session = OnnxSessionFactory.Create(modelBytes, settings, modelName, fromSavedModel, out var actual);
        try
        {
            ExecutionProvider = actual;
            if (actual != settings.Provider)
            {
                using var ch = _host.Start(nameof(OnnxScoringTransformer));
                ch.Warning($"Execution provider {settings.Provider} is not available: model {modelName} runs on {actual} (FallbackToCpu).");
            }

            Inputs = Bind(_session.InputMetadata, inputColumns, inputTensors, isInput: true);
            Outputs = Bind(_session.OutputMetadata, outputColumns, outputTensors, isInput: false);
            bool fixedToOne = Inputs.Concat(Outputs).Any(b => b.Tensor.BatchFixedToOne);
            BatchSize = fixedToOne ? 1 : batchSize;
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Rows per ONNX Runtime run (1 when the graph fixes its batch axis to 1).</summary>
    public int BatchSize { get; }

    /// <summary>The execution provider the session actually runs on (after any fallback to the CPU).</summary>
    public OnnxExecutionProvider ExecutionProvider { get; }

    /// <summary>The columns read, one per graph input, in the graph's order.</summary>
    public IReadOnlyList<string> InputColumnNames => Inputs.Select(b => b.ColumnName).ToArray();

    /// <summary>The columns added, one per mapped graph output.</summary>
    public IReadOnlyList<string> OutputColumnNames => Outputs.Select(b => b.ColumnName).ToArray();

    /// <summary>Always true: the transformer maps rows one to one, so <c>PredictionEngine</c> works.</summary>
    public bool IsRowToRowMapper => true;

    internal IReadOnlyList<OnnxColumnBinding> Inputs { get; }

    internal IReadOnlyList<OnnxColumnBinding> Outputs { get; }

    internal string ModelName { get; }

    internal InferenceSession Session => _session ?? throw new ObjectDisposedException(nameof(OnnxScoringTransformer));

    /// <summary>ONNX Runtime runs made so far (tests and benchmarks read it).</summary>
    internal long RunCount => Interlocked.Read(ref _runCount);

    /// <summary>The input schema plus the output columns; input columns of the same names are hidden.</summary>
    /// <param name="inputSchema">The schema of the data to score.</param>
    /// <exception cref="ArgumentOutOfRangeException">A mapped column is missing or has the wrong type or size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var binding in Inputs)
        {
            CheckInputColumn(inputSchema, binding);
        }

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var binding in Outputs)
        {
            builder.AddColumn(binding.ColumnName, binding.Tensor.ColumnType);
        }

        return builder.ToSchema();
    }

    /// <summary>Returns a lazy view that scores <paramref name="input"/> in batches as it is read.</summary>
    /// <param name="input">The data to score.</param>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        return new OnnxScoringDataView(this, input);
    }

    /// <summary>A row-to-row mapper that scores one row at a time (used by <c>PredictionEngine</c>).</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ThrowIfDisposed();
        return new OnnxRowMapper(this, inputSchema);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        _session?.Dispose();
        _session = null;
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveBinaryStream(ModelStreamName, writer => writer.WriteByteArray(_modelBytes));
        ctx.Writer.WriteByteArray(SHA256.HashData(_modelBytes));
        ctx.SaveNonEmptyString(ModelName);
        SaveBindings(ctx, Inputs);
        SaveBindings(ctx, Outputs);
        ctx.Writer.Write(BatchSize);
        ctx.Writer.Write(_intraOpNumThreads);
        ctx.Writer.Write(_interOpNumThreads);
    }

    internal void CountRun() => Interlocked.Increment(ref _runCount);

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_session == null, this);

    internal static OnnxExecutionSettings LoadTimeSettings(IHostEnvironment env, int intraOpNumThreads, int interOpNumThreads)
    {
        if (OnnxLoadScope.Current is { } explicitSettings)
        {
            return explicitSettings with { IntraOpNumThreads = intraOpNumThreads, InterOpNumThreads = interOpNumThreads };
        }

        if (env is IHostEnvironmentInternal context && context.GpuDeviceId is int deviceId)
        {
            return new OnnxExecutionSettings(OnnxExecutionProvider.Cuda, deviceId, context.FallbackToCpu, intraOpNumThreads, interOpNumThreads);
        }

        return OnnxExecutionSettings.Cpu with { IntraOpNumThreads = intraOpNumThreads, InterOpNumThreads = interOpNumThreads };
    }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "MLNONNXS",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(OnnxScoringTransformer).Assembly.FullName);

    // Found by ML.NET's ComponentCatalog through the LoadableClass attribute above.
    private static OnnxScoringTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ctx.CheckAtModel(GetVersionInfo());
        byte[]? modelBytes = null;
        if (!ctx.TryLoadBinaryStream(ModelStreamName, reader => modelBytes = reader.ReadByteArray()) || modelBytes == null)
        {
            ThrowHelper.CorruptModel("The saved model has no ONNX model stream: the model zip is truncated or was not written by MlNotes.");
        }

        byte[] hash = ctx.Reader.ReadByteArray();
        if (!hash.AsSpan().SequenceEqual(SHA256.HashData(modelBytes)))
        {
            ThrowHelper.CorruptModel("The ONNX model stored in the model zip is corrupt: its SHA-256 does not match the one saved with it.");
        }

        string modelName = ctx.LoadNonEmptyString();
        var (inputColumns, inputTensors) = LoadBindings(ctx);
        var (outputColumns, outputTensors) = LoadBindings(ctx);
        int batchSize = ctx.Reader.ReadInt32();
        int intra = ctx.Reader.ReadInt32();
        int inter = ctx.Reader.ReadInt32();
        if (batchSize < 1 || intra < 0 || inter < 0)
        {
            ThrowHelper.CorruptModel($"The saved ONNX scoring transformer is corrupt: batch size {batchSize}, threads {intra}/{inter}.");
        }

        var settings = LoadTimeSettings(env, intra, inter);
        return new OnnxScoringTransformer(env, modelBytes, modelName + " (loaded from a model zip)", inputColumns, inputTensors,
            outputColumns, outputTensors, batchSize, settings, fromSavedModel: true);
    }

    private static void SaveBindings(ModelSaveContext ctx, IReadOnlyList<OnnxColumnBinding> bindings)
    {
        ctx.Writer.Write(bindings.Count);
        foreach (var binding in bindings)
        {
            ctx.SaveNonEmptyString(binding.ColumnName);
            ctx.SaveNonEmptyString(binding.Tensor.Name);
        }
    }

    private static (string[] Columns, string[] Tensors) LoadBindings(ModelLoadContext ctx)
    {
        int count = ctx.Reader.ReadInt32();
        if (count < 0 || count > 100_000)
        {
            ThrowHelper.CorruptModel($"The saved ONNX scoring transformer is corrupt: {count} column bindings.");
        }

        var columns = new string[count];
        var tensors = new string[count];
        for (int i = 0; i < count; i++)
        {
            columns[i] = ctx.LoadNonEmptyString();
            tensors[i] = ctx.LoadNonEmptyString();
        }

        return (columns, tensors);
    }

    private static byte[] LoadBytes(OnnxScoringEstimator.Options options, out string modelName)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ModelFile != null && options.ModelBytes != null)
        {
            ThrowHelper.BadOption(nameof(options.ModelFile), "Give either ModelFile or ModelBytes, not both.");
        }

        if (options.ModelFile != null)
        {
            modelName = $"'{options.ModelFile}'";
            return OnnxSessionFactory.ReadModelFile(options.ModelFile);
        }

        if (options.ModelBytes != null)
        {
            modelName = $"(given as {options.ModelBytes.Length} bytes)";
            return options.ModelBytes.ToArray();
        }

        modelName = "";
        return ThrowHelper.BadOption<byte[]>(nameof(options.ModelFile), "Give the ONNX model as ModelFile or ModelBytes.");
    }

    private OnnxColumnBinding[] Bind(IReadOnlyDictionary<string, NodeMetadata> graph, IReadOnlyList<string>? columns, IReadOnlyList<string>? tensors, bool isInput)
    {
        string role = isInput ? "input" : "output";
        string prefix = isInput ? "Input" : "Output";
        tensors ??= columns ?? graph.Keys.ToArray();
        columns ??= tensors;
        if (columns.Count != tensors.Count)
        {
            ThrowHelper.BadOption($"{prefix}ColumnNames", $"{prefix}ColumnNames has {columns.Count} names but {prefix}TensorNames has {tensors.Count}: they pair up one to one.");
        }

        var bindings = new OnnxColumnBinding[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            if (string.IsNullOrEmpty(columns[i]) || string.IsNullOrEmpty(tensors[i]))
            {
                ThrowHelper.BadOption($"{prefix}ColumnNames", $"{prefix} column and tensor names must not be empty (position {i}).");
            }

            if (!graph.TryGetValue(tensors[i], out var metadata))
            {
                ThrowHelper.BadOption($"{prefix}TensorNames",
                    $"The ONNX model {ModelName} has no {role} named '{tensors[i]}' (its {role}s: {string.Join(", ", graph.Keys)}).");
            }

            bindings[i] = new OnnxColumnBinding(columns[i], OnnxTensorInfo.Create(tensors[i], metadata, ModelName, isInput));
        }

        if (bindings.Select(b => b.ColumnName).Distinct().Count() != bindings.Length)
        {
            ThrowHelper.BadOption($"{prefix}ColumnNames", $"{prefix} column names must be distinct: {string.Join(", ", bindings.Select(b => b.ColumnName))}.");
        }

        if (bindings.Select(b => b.Tensor.Name).Distinct().Count() != bindings.Length)
        {
            ThrowHelper.BadOption($"{prefix}TensorNames", $"Each ONNX {role} can be mapped once: {string.Join(", ", bindings.Select(b => b.Tensor.Name))}.");
        }

        if (isInput)
        {
            foreach (string name in graph.Keys)
            {
                if (!bindings.Any(b => b.Tensor.Name == name))
                {
                    ThrowHelper.BadOption("InputColumnNames",
                        $"The ONNX graph input '{name}' of model {ModelName} is not mapped to a column: add it to InputColumnNames (and InputTensorNames).");
                }
            }
        }

        return bindings;
    }

    private void CheckInputColumn(DataViewSchema schema, OnnxColumnBinding binding)
    {
        var tensor = binding.Tensor;
        var column = schema.GetColumnOrNull(binding.ColumnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(schema), binding.ColumnName);
        }

        var type = column.Value.Type;
        var itemType = type is VectorDataViewType vector ? vector.ItemType : type;
        string expected = $"{tensor.TypeText} (ONNX input '{tensor.Name}' {tensor.ShapeText} of model {ModelName})";
        if (!itemType.Equals(tensor.ItemType))
        {
            ThrowHelper.SchemaMismatch(nameof(schema), binding.ColumnName, expected, $"{type}");
        }

        int size = type is VectorDataViewType v ? v.Size : 1;
        bool sizeKnown = type is not VectorDataViewType || size > 0;
        if (!sizeKnown)
        {
            return; // A variable-size vector: each row's length is checked as it is read.
        }

        bool fits = tensor.RowElements > 0 ? size == tensor.RowElements : size % tensor.KnownRowElements == 0;
        if (!fits)
        {
            ThrowHelper.SchemaMismatch(nameof(schema), binding.ColumnName, expected, $"{type} ({size} values)");
        }
    }
}
