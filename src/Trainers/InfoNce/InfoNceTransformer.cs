using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Trainers.InfoNce;
using MlNotes.Trainers.Numerics;

[assembly: LoadableClass(typeof(InfoNceTransformer), null, typeof(SignatureLoadModel),
    "MlNotes InfoNCE projection heads", InfoNceTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(InfoNceTransformer), null, typeof(SignatureLoadRowMapper),
    "MlNotes InfoNCE projection heads", InfoNceTransformer.LoaderSignature)]

namespace MlNotes.Trainers.InfoNce;

/// <summary>
/// Two trained projection heads: adds the L2-normalized embedding of column A (when the input has it), of column B (when it has it),
/// and, when both are there, their cosine similarity. Produced by <see cref="InfoNceEstimator"/>.
/// </summary>
public sealed class InfoNceTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "MlNotesInfoNce";

    private readonly float[] _parameters;

    internal InfoNceTransformer(IHostEnvironment env, InfoNceEstimator.Options options, InfoNceNetwork<float> network, float[] parameters)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(InfoNceTransformer)))
    {
        Names = options;
        Network = network;
        _parameters = parameters;
    }

    private InfoNceTransformer(IHostEnvironment env, ModelLoadContext ctx)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(InfoNceTransformer)))
    {
        Names = new InfoNceEstimator.Options
        {
            ColumnNameA = ctx.LoadNonEmptyString(),
            ColumnNameB = ctx.LoadNonEmptyString(),
            OutputColumnNameA = ctx.LoadNonEmptyString(),
            OutputColumnNameB = ctx.LoadNonEmptyString(),
            SimilarityColumnName = ctx.LoadNonEmptyString(),
        };
        foreach (var (name, value) in new[]
        {
            ("ColumnNameA", Names.ColumnNameA), ("ColumnNameB", Names.ColumnNameB), ("OutputColumnNameA", Names.OutputColumnNameA),
            ("OutputColumnNameB", Names.OutputColumnNameB), ("SimilarityColumnName", Names.SimilarityColumnName),
        })
        {
            ThrowHelper.CheckEntry(ctx, !string.IsNullOrWhiteSpace(value), $"{name} is blank");
        }

        var reader = ctx.Reader;
        int sizeA = reader.ReadInt32();
        int sizeB = reader.ReadInt32();
        int embedding = reader.ReadInt32();
        int hiddenCount = reader.ReadInt32();
        ThrowHelper.CheckEntry(ctx, sizeA > 0 && sizeB > 0 && embedding > 0 && hiddenCount is >= 0 and < 1000,
            $"sizes {sizeA} (A), {sizeB} (B), {embedding} (embedding), {hiddenCount} (hidden layers) where the first three must be positive");
        var hidden = MlpShape.ReadHidden(ctx, hiddenCount);
        var activation = (Activation)reader.ReadInt32();
        ThrowHelper.CheckEntry(ctx, Enum.IsDefined(activation), $"unknown activation {(int)activation}");
        long architecture = MlpShape.ParameterCount(sizeA, hidden, embedding) + MlpShape.ParameterCount(sizeB, hidden, embedding) + 1;
        MlpShape.CheckSize(ctx, architecture);
        Network = new InfoNceNetwork<float>(sizeA, sizeB, hidden, embedding, activation);
        _parameters = MlpShape.ReadParameters(ctx, Network.ParameterCount);

        // Training clamps the log logit scale to [0, log MaximumLogitScale]; a negative one was not written by it.
        ThrowHelper.CheckEntry(ctx, _parameters[Network.LogScaleIndex] >= 0, $"the log logit scale {_parameters[Network.LogScaleIndex]} is negative");
    }

    /// <summary>The learned logit scale, 1 / temperature (at most the clamp, 100 by default).</summary>
    public double LogitScale => Math.Exp(_parameters[Network.LogScaleIndex]);

    /// <summary>Size of the embeddings.</summary>
    public int EmbeddingSize => Network.EmbeddingSize;

    internal InfoNceNetwork<float> Network { get; }

    internal ReadOnlySpan<float> Parameters => _parameters;

    internal InfoNceEstimator.Options Names { get; }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveNonEmptyString(Names.ColumnNameA);
        ctx.SaveNonEmptyString(Names.ColumnNameB);
        ctx.SaveNonEmptyString(Names.OutputColumnNameA);
        ctx.SaveNonEmptyString(Names.OutputColumnNameB);
        ctx.SaveNonEmptyString(Names.SimilarityColumnName);
        var writer = ctx.Writer;
        writer.Write(Network.HeadA.InputSize);
        writer.Write(Network.HeadB.InputSize);
        writer.Write(Network.EmbeddingSize);
        var sizes = Network.HeadA.Sizes;
        writer.Write(sizes.Length - 2);
        foreach (int size in sizes[1..^1])
        {
            writer.Write(size);
        }

        writer.Write((int)Network.HeadA.Activation);
        writer.Write(_parameters.Length);
        foreach (float p in _parameters)
        {
            writer.Write(p);
        }
    }

    // Found by ML.NET's ComponentCatalog; differs in visibility from the constructor of the same signature.
    internal static InfoNceTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        return new InfoNceTransformer(env, ctx);
    }

    internal static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNINFNC", LoaderSignature);

    // Weights and biases of one head, in 64 bits so corrupt sizes cannot wrap around.
    private sealed class Mapper : MapperBase
    {
        private readonly InfoNceTransformer _parent;
        private readonly int _a;
        private readonly int _b;
        private readonly DataViewSchema.DetachedColumn[] _outputs;
        private readonly int[] _kinds; // 0: A, 1: B, 2: similarity

        public Mapper(InfoNceTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _parent = parent;
            var names = parent.Names;
            _a = Bind(inputSchema, names.ColumnNameA, parent.Network.HeadA.InputSize);
            _b = Bind(inputSchema, names.ColumnNameB, parent.Network.HeadB.InputSize);
            var embedding = new VectorDataViewType(NumberDataViewType.Single, parent.EmbeddingSize);
            var outputs = new List<DataViewSchema.DetachedColumn>();
            var kinds = new List<int>();
            if (_a >= 0)
            {
                outputs.Add(new DataViewSchema.DetachedColumn(names.OutputColumnNameA, embedding));
                kinds.Add(0);
            }

            if (_b >= 0)
            {
                outputs.Add(new DataViewSchema.DetachedColumn(names.OutputColumnNameB, embedding));
                kinds.Add(1);
            }

            if (_a >= 0 && _b >= 0)
            {
                outputs.Add(new DataViewSchema.DetachedColumn(names.SimilarityColumnName, NumberDataViewType.Single));
                kinds.Add(2);
            }

            _outputs = outputs.ToArray();
            _kinds = kinds.ToArray();
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() => _outputs;

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            bool needA = false, needB = false;
            for (int i = 0; i < _kinds.Length; i++)
            {
                if (activeOutput(i))
                {
                    needA |= _kinds[i] != 1;
                    needB |= _kinds[i] != 0;
                }
            }

            return column => (needA && column == _a) || (needB && column == _b);
        }

        protected override void SaveModel(ModelSaveContext ctx) => _parent.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            int kind = _kinds[iinfo];
            var sideA = kind != 1 ? new Side(_parent, input, _a, isA: true) : null;
            var sideB = kind != 0 ? new Side(_parent, input, _b, isA: false) : null;
            if (kind == 2)
            {
                return (ValueGetter<float>)((ref float dst) =>
                {
                    var za = sideA!.Get();
                    var zb = sideB!.Get();
                    float dot = 0;
                    for (int i = 0; i < za.Length; i++)
                    {
                        dot += za[i] * zb[i];
                    }

                    dst = dot;
                });
            }

            var side = sideA ?? sideB!;
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
            {
                var z = side.Get();
                var editor = VBufferEditor.Create(ref dst, z.Length);
                z.CopyTo(editor.Values);
                dst = editor.Commit();
            });
        }

        private static int Bind(DataViewSchema schema, string name, int size)
        {
            if (schema.GetColumnOrNull(name) is not { } column)
            {
                return -1;
            }

            if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType } vector || vector.ItemType != NumberDataViewType.Single || (vector.Size != 0 && vector.Size != size))
            {
                ThrowHelper.SchemaMismatch(nameof(schema), name, $"Vector<Single, {size}>", $"{column.Type}");
            }

            return column.Index;
        }

        /// <summary>One side's embedding of the current row, computed once per row.</summary>
        private sealed class Side
        {
            private readonly DataViewRow _input;
            private readonly ValueGetter<VBuffer<float>> _get;
            private readonly Mlp<float> _head;
            private readonly float[] _parameters;
            private readonly int _offset;
            private readonly Mlp<float>.Workspace _workspace;
            private readonly float[] _features;
            private readonly float[] _embedding;
            private readonly string _name;
            private VBuffer<float> _buffer;
            private long _position = -1;

            public Side(InfoNceTransformer parent, DataViewRow input, int column, bool isA)
            {
                _input = input;
                _get = input.GetGetter<VBuffer<float>>(input.Schema[column]);
                _name = input.Schema[column].Name;
                _head = isA ? parent.Network.HeadA : parent.Network.HeadB;
                _parameters = parent._parameters;
                _offset = isA ? 0 : parent.Network.OffsetB;
                _workspace = _head.CreateWorkspace(1, pooled: false);
                _features = new float[_head.InputSize];
                _embedding = new float[parent.EmbeddingSize];
            }

            public float[] Get()
            {
                if (_position != _input.Position)
                {
                    _get(ref _buffer);
                    if (_buffer.Length != _features.Length)
                    {
                        ThrowHelper.SchemaMismatch("input", _name, $"{_features.Length} values", $"{_buffer.Length} values at row {_input.Position}");
                    }

                    _buffer.CopyTo(_features);
                    InfoNceNetwork<float>.Embed(_head, _parameters.AsSpan(_offset, _head.ParameterCount), _features, 1, _workspace, _embedding);
                    _position = _input.Position;
                }

                return _embedding;
            }
        }
    }
}
