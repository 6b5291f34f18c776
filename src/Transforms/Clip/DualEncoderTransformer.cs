using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(DualEncoderTransformer), null, typeof(SignatureLoadModel),
    "MlNotes dual encoder", DualEncoderTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Clip;

/// <summary>
/// The transformer of <see cref="DualEncoderEstimator"/>: two ONNX sessions, one per tower, scored in batches; normalized embeddings
/// and their scaled cosine. Holds native sessions: dispose it.
/// </summary>
public sealed class DualEncoderTransformer : OnnxTransformerBase, IOnnxMapper
{
    internal const string LoaderSignature = "MlNotesDualEncoder";
    private const string StreamA = "OnnxModelA";
    private const string StreamB = "OnnxModelB";

    private readonly IHost _host;
    private readonly OnnxModel _modelA;
    private readonly OnnxModel _modelB;
    private readonly Tower _a;
    private readonly Tower _b;

    internal DualEncoderTransformer(IHostEnvironment env, DualEncoderEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(DualEncoderTransformer));
        OnnxScoringTransformer.CheckBatchSize(options.BatchSize);
        EmbeddingMath.CheckedLogitScale(options.LogitScale);

        var names = new[] { options.ColumnNameA, options.ColumnNameB, options.OutputColumnNameA, options.OutputColumnNameB, options.SimilarityColumnName };
        if (names.Any(string.IsNullOrEmpty) || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            ThrowHelper.BadOption(nameof(options.ColumnNameA), $"The dual encoder's five column names must be distinct and not empty: {string.Join(", ", names)}.");
        }

        Names = options;
        var settings = options.ExecutionSettings;
        byte[] bytesA = OnnxModel.ReadBytes(options.ModelFile, options.ModelBytes, out string nameA);
        byte[] bytesB = OnnxModel.ReadBytes(options.ModelFileB, options.ModelBytesB, out string nameB, nameof(options.ModelFileB));
        _modelA = OnnxModel.Create(_host, bytesA, nameA, settings, fromSavedModel: false);
        try
        {
            _modelB = OnnxModel.Create(_host, bytesB, nameB, settings, fromSavedModel: false);
        }
        catch
        {
            _modelA.Dispose();
            throw;
        }

        try
        {
            _a = Tower.Create(_modelA, options.ColumnNameA, options.OutputColumnNameA, options.InputTensorNameA, options.OutputTensorNameA, "A");
            _b = Tower.Create(_modelB, options.ColumnNameB, options.OutputColumnNameB, options.InputTensorNameB, options.OutputTensorNameB, "B");
            CheckSizes();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private DualEncoderTransformer(IHost host, OnnxModel modelA, OnnxModel modelB, DualEncoderEstimator.Options names, string[] tensors)
    {
        _host = host;
        _modelA = modelA;
        _modelB = modelB;
        Names = names;
        _a = Tower.Create(modelA, names.ColumnNameA, names.OutputColumnNameA, tensors[0], tensors[1], "A");
        _b = Tower.Create(modelB, names.ColumnNameB, names.OutputColumnNameB, tensors[2], tensors[3], "B");
        CheckSizes();
    }

    internal override IReadOnlyList<OnnxModel> Sessions => [_modelA, _modelB];

    internal override IOnnxMapper BatchedMapper => this;

    private protected override VersionInfo Version => GetVersionInfo();

    internal override OnnxTransformerBase Reopen() => OnnxModel.ReopenAll([_modelA, _modelB], m => new DualEncoderTransformer(_host, m[0]!, m[1]!, Names,
        new[] { _a.Input.Tensor.Name, _a.Output.Tensor.Name, _b.Input.Tensor.Name, _b.Output.Tensor.Name }));

    /// <summary>The embedding size (the same for both towers).</summary>
    public int EmbeddingSize => _a.Output.Tensor.RowElements;

    /// <summary>The logit scale multiplying the cosine.</summary>
    public float LogitScale => Names.LogitScale;

    internal DualEncoderEstimator.Options Names { get; }

    int IBatchedMapper.BatchSize => Names.BatchSize;

    DataViewSchema IBatchedMapper.GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return SchemaShapes.Append(inputSchema, AddedSchema(Present(inputSchema, _a), Present(inputSchema, _b)));
    }

    SchemaShape IOnnxMapper.GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return SchemaShapes.Extend(inputSchema, [], SchemaShapes.Of(AddedSchema(inputSchema.TryFindColumn(Names.ColumnNameA, out _), inputSchema.TryFindColumn(Names.ColumnNameB, out _))));
    }

    /// <summary>The columns added when tower A's input (<paramref name="hasA"/>) and tower B's (<paramref name="hasB"/>) are present; neither is an error.</summary>
    private DataViewSchema AddedSchema(bool hasA, bool hasB)
    {
        if (!hasA && !hasB)
        {
            ThrowHelper.MissingColumn("inputSchema", $"{Names.ColumnNameA}' or '{Names.ColumnNameB}");
        }

        var builder = new DataViewSchema.Builder();
        var embedding = new VectorDataViewType(NumberDataViewType.Single, EmbeddingSize);
        if (hasA)
        {
            builder.AddColumn(Names.OutputColumnNameA, embedding);
        }

        if (hasB)
        {
            builder.AddColumn(Names.OutputColumnNameB, embedding);
        }

        if (hasA && hasB)
        {
            builder.AddColumn(Names.SimilarityColumnName, NumberDataViewType.Single);
        }

        return builder.ToSchema();
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        _modelA.Save(ctx, StreamA);
        _modelB.Save(ctx, StreamB);
        foreach (string name in new[]
        {
            Names.ColumnNameA, Names.ColumnNameB, Names.OutputColumnNameA, Names.OutputColumnNameB, Names.SimilarityColumnName,
            _a.Input.Tensor.Name, _a.Output.Tensor.Name, _b.Input.Tensor.Name, _b.Output.Tensor.Name,
        })
        {
            ctx.SaveNonEmptyString(name);
        }

        ctx.Writer.Write(Names.LogitScale);
        ctx.Writer.Write(Names.Normalize);
        ctx.Writer.Write(Names.BatchSize);
    }

    IEnumerable<string> IBatchedMapper.InputColumns(DataViewSchema inputSchema, bool[] activeOutputs)
    {
        var (needA, needB) = Needs(AddedColumns(inputSchema), activeOutputs);
        if (needA)
        {
            yield return Names.ColumnNameA;
        }

        if (needB)
        {
            yield return Names.ColumnNameB;
        }
    }

    IBatch IBatchedMapper.CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, activeOutputs, capacity);

    void IBatchedMapper.ThrowIfDisposed() => ThrowIfDisposed();

    private static bool Present(DataViewSchema schema, Tower tower)
    {
        if (schema.GetColumnOrNull(tower.Input.ColumnName) == null)
        {
            return false;
        }

        OnnxBindings.CheckInputColumn(schema, tower.Input, tower.Model.Name);
        return true;
    }

    // The added columns in their order: A's embedding (if its column is present), B's (likewise), the similarity (if both are).
    private Added[] AddedColumns(DataViewSchema schema)
    {
        bool hasA = schema.GetColumnOrNull(Names.ColumnNameA) != null, hasB = schema.GetColumnOrNull(Names.ColumnNameB) != null;
        var added = new List<Added>(3);
        if (hasA)
        {
            added.Add(Added.EmbeddingA);
        }

        if (hasB)
        {
            added.Add(Added.EmbeddingB);
        }

        if (hasA && hasB)
        {
            added.Add(Added.Similarity);
        }

        return added.ToArray();
    }

    // Which towers run: those whose embedding, or the similarity, is read.
    private static (bool NeedA, bool NeedB) Needs(Added[] added, bool[] active)
    {
        var read = added.Where((_, i) => active[i]).ToArray();
        bool similarity = read.Contains(Added.Similarity);
        return (similarity || read.Contains(Added.EmbeddingA), similarity || read.Contains(Added.EmbeddingB));
    }

    private void CheckSizes()
    {
        int sizeA = _a.Output.Tensor.RowElements, sizeB = _b.Output.Tensor.RowElements;
        if (sizeA <= 0 || sizeB <= 0 || sizeA != sizeB)
        {
            ThrowHelper.InvalidOperation(
                $"The towers' embeddings must share one known size: tower A ({_modelA.Name}, output '{_a.Output.Tensor.Name}') gives {_a.Output.Tensor.ShapeText}, " +
                $"tower B ({_modelB.Name}, output '{_b.Output.Tensor.Name}') gives {_b.Output.Tensor.ShapeText}.");
        }
    }

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNDUALE", LoaderSignature);

    // Found by ML.NET's ComponentCatalog.
    private static DualEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ctx.CheckAtModel(GetVersionInfo());
        var host = env.Register(nameof(DualEncoderTransformer));
        return OnnxModel.LoadAll(env, host, ctx, new[] { StreamA, StreamB }, models =>
        {
            OnnxModel modelA = models[0]!, modelB = models[1]!;
            var (names, tensors) = ModelEntry.Read(ctx, () =>
            {
                var options = new DualEncoderEstimator.Options
                {
                    ColumnNameA = ctx.LoadNonEmptyString(),
                    ColumnNameB = ctx.LoadNonEmptyString(),
                    OutputColumnNameA = ctx.LoadNonEmptyString(),
                    OutputColumnNameB = ctx.LoadNonEmptyString(),
                    SimilarityColumnName = ctx.LoadNonEmptyString(),
                };
                var saved = new[] { ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString() };
                options.LogitScale = ctx.Reader.ReadSingle();
                options.Normalize = ctx.Reader.ReadBoolean();
                options.BatchSize = ctx.Reader.ReadInt32();
                return (options, saved);
            });
            var columns = new[] { names.ColumnNameA, names.ColumnNameB, names.OutputColumnNameA, names.OutputColumnNameB, names.SimilarityColumnName };
            ModelEntry.Check(ctx, ModelEntry.First(
                !(names.LogitScale > 0) || !float.IsFinite(names.LogitScale) ? $"its logit scale {ModelEntry.Text(names.LogitScale)} is not a positive finite number" : null,
                names.BatchSize < 1 ? $"its batch size is {names.BatchSize}, not at least 1" : null,
                columns.Distinct(StringComparer.Ordinal).Count() != columns.Length ? $"its five column names are not distinct: {string.Join(", ", columns)}" : null,
                ModelEntry.MissingTensor("tower A input", tensors[0], modelA.InputMetadata, "input"),
                ModelEntry.MissingTensor("tower A embedding", tensors[1], modelA.OutputMetadata, "output"),
                ModelEntry.MissingTensor("tower B input", tensors[2], modelB.InputMetadata, "input"),
                ModelEntry.MissingTensor("tower B embedding", tensors[3], modelB.OutputMetadata, "output")));
            return new DualEncoderTransformer(host, modelA, modelB, names, tensors);
        });
    }

    /// <summary>One tower: its session and its input and output bindings.</summary>
    private sealed record Tower(OnnxModel Model, OnnxColumnBinding Input, OnnxColumnBinding Output)
    {
        public static Tower Create(OnnxModel model, string column, string outputColumn, string? inputTensor, string? outputTensor, string side)
        {
            string input = inputTensor ?? (model.InputMetadata.Count == 1
                ? model.InputMetadata.Keys.Single()
                : ThrowHelper.BadOption<string>($"InputTensorName{side}", $"Tower {side} ({model.Name}) has {model.InputMetadata.Count} inputs ({string.Join(", ", model.InputMetadata.Keys)}): a tower takes one vector; name it with InputTensorName{side}."));
            string output = outputTensor ?? model.OutputMetadata.Keys.First();
            var inputs = OnnxBindings.Bind(model.InputMetadata, new[] { column }, new[] { input }, model.Name, isInput: true, $"InputTensorName{side}");
            var outputs = OnnxBindings.Bind(model.OutputMetadata, new[] { outputColumn }, new[] { output }, model.Name, isInput: false, $"OutputTensorName{side}");
            if (outputs[0].Tensor.ItemType != NumberDataViewType.Single)
            {
                ThrowHelper.InvalidOperation($"Tower {side} ({model.Name}) gives its embedding '{output}' as {outputs[0].Tensor.TypeText}; a dual encoder needs float32.");
            }

            return new Tower(model, inputs[0], outputs[0]);
        }
    }

    private enum Added { EmbeddingA, EmbeddingB, Similarity }

    /// <summary>A batch: one ONNX batch per tower whose column is present and needed.</summary>
    private sealed class Batch : IBatch
    {
        private static readonly bool[] s_oneActive = { true };
        private readonly DualEncoderTransformer _parent;
        private readonly OnnxBatch? _a;
        private readonly OnnxBatch? _b;
        private readonly Added[] _added;

        public Batch(DualEncoderTransformer parent, DataViewRow source, bool[] activeOutputs, int capacity)
        {
            _parent = parent;
            _added = parent.AddedColumns(source.Schema);
            var (needA, needB) = Needs(_added, activeOutputs);
            _a = needA ? Create(parent._a) : null;
            _b = needB ? Create(parent._b) : null;
            Capacity = capacity;

            OnnxBatch Create(Tower tower)
                => new(tower.Model, new[] { OnnxBatch.FromColumn(tower.Input, source, capacity) }, new[] { tower.Output }, s_oneActive, capacity);
        }

        public int Capacity { get; }

        public int Count { get; private set; }

        public void Clear()
        {
            _a?.Clear();
            _b?.Clear();
            Count = 0;
        }

        public void Add(long position)
        {
            _a?.Add(position);
            _b?.Add(position);
            Count++;
        }

        public void Run()
        {
            _a?.Run();
            _b?.Run();
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            var added = _added[outputIndex];
            bool normalize = _parent.Names.Normalize;
            if (added == Added.Similarity)
            {
                float scale = _parent.LogitScale;
                return (ValueGetter<float>)((ref float dst) =>
                {
                    int s = slot();
                    var a = _a!.OutputRow<float>(0, s);
                    var b = _b!.OutputRow<float>(0, s);
                    dst = scale * (normalize ? EmbeddingMath.Cosine(a, b) : TensorPrimitives.Dot(a, b));
                });
            }

            var batch = added == Added.EmbeddingA ? _a! : _b!;
            int size = _parent.EmbeddingSize;
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
            {
                var editor = VBufferEditor.Create(ref dst, size);
                batch.OutputRow<float>(0, slot()).CopyTo(editor.Values);
                if (normalize)
                {
                    EmbeddingMath.Normalize(editor.Values);
                }

                dst = editor.Commit();
            });
        }

        public void Dispose()
        {
            _a?.Dispose();
            _b?.Dispose();
        }
    }
}
