using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(EmbeddingSimilarityTransformer), null, typeof(SignatureLoadModel),
    "MlNotes embedding similarity", EmbeddingSimilarityTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(EmbeddingSimilarityTransformer), null, typeof(SignatureLoadRowMapper),
    "MlNotes embedding similarity", EmbeddingSimilarityTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Clip;

/// <summary>The transformer of <see cref="EmbeddingSimilarityEstimator"/>: logit scale x cosine of two embedding columns, per row.</summary>
public sealed class EmbeddingSimilarityTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "MlNotesEmbedSimilarity";

    private readonly string _columnA;
    private readonly string _columnB;
    private readonly string _output;

    internal EmbeddingSimilarityTransformer(IHostEnvironment env, string columnA, string columnB, string output, float logitScale)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(EmbeddingSimilarityTransformer)))
    {
        _columnA = columnA;
        _columnB = columnB;
        _output = output;
        LogitScale = logitScale;
    }

    /// <summary>The factor multiplying the cosine.</summary>
    public float LogitScale { get; }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveNonEmptyString(_columnA);
        ctx.SaveNonEmptyString(_columnB);
        ctx.SaveNonEmptyString(_output);
        ctx.Writer.Write(LogitScale);
    }

    // Found by ML.NET's ComponentCatalog.
    internal static EmbeddingSimilarityTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        var (a, b, output, scale) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.Reader.ReadSingle()));
        ModelEntry.Check(ctx, scale > 0 && float.IsFinite(scale), $"its logit scale {ModelEntry.Text(scale)} is not a positive finite number");
        return new EmbeddingSimilarityTransformer(env, a, b, output, scale);
    }

    internal static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNEMSIM", LoaderSignature);

    private sealed class Mapper : MapperBase
    {
        private readonly EmbeddingSimilarityTransformer _parent;
        private readonly int _a;
        private readonly int _b;

        public Mapper(EmbeddingSimilarityTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _parent = parent;
            int sizeA = Bind(inputSchema, parent._columnA, out _a);
            int sizeB = Bind(inputSchema, parent._columnB, out _b);
            if (sizeA != sizeB)
            {
                ThrowHelper.SchemaMismatch(nameof(inputSchema), parent._columnB,
                    $"a vector of the size of '{parent._columnA}' (Vector<Single, {(sizeA == 0 ? "?" : sizeA)}>): the two embeddings must come from one space",
                    $"Vector<Single, {(sizeB == 0 ? "?" : sizeB)}>");
            }
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => new[] { new DataViewSchema.DetachedColumn(_parent._output, NumberDataViewType.Single) };

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
            => column => activeOutput(0) && (column == _a || column == _b);

        protected override void SaveModel(ModelSaveContext ctx) => _parent.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            var getA = input.GetGetter<VBuffer<float>>(input.Schema[_a]);
            var getB = input.GetGetter<VBuffer<float>>(input.Schema[_b]);
            VBuffer<float> a = default, b = default;
            float[] denseA = Array.Empty<float>(), denseB = Array.Empty<float>();
            float scale = _parent.LogitScale;
            return (ValueGetter<float>)((ref float dst) =>
            {
                getA(ref a);
                getB(ref b);
                if (a.Length != b.Length)
                {
                    ThrowHelper.InvalidOperation(
                        $"Row {input.Position}: column '{_parent._columnA}' has {a.Length} values and column '{_parent._columnB}' {b.Length}: the two embeddings must have the same size.");
                }

                if (a.IsDense && b.IsDense)
                {
                    dst = scale * EmbeddingMath.Cosine(a.GetValues(), b.GetValues());
                    return;
                }

                if (denseA.Length != a.Length)
                {
                    denseA = new float[a.Length];
                    denseB = new float[a.Length];
                }

                a.CopyTo(denseA);
                b.CopyTo(denseB);
                dst = scale * EmbeddingMath.Cosine(denseA, denseB);
            });
        }

        private static int Bind(DataViewSchema schema, string name, out int index)
        {
            var column = schema.GetColumnOrNull(name);
            if (column == null)
            {
                ThrowHelper.MissingColumn(nameof(schema), name);
            }

            index = column.Value.Index;
            if (column.Value.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single)
            {
                return ThrowHelper.BadOption<int>(nameof(schema), $"Schema mismatch for input column '{name}': expected a vector of Single, got {column.Value.Type}.");
            }

            return vector.Size;
        }
    }
}
