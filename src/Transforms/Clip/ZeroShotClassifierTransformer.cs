using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(ZeroShotClassifierTransformer), null, typeof(SignatureLoadModel),
    "MlNotes zero-shot classifier", ZeroShotClassifierTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(ZeroShotClassifierTransformer), null, typeof(SignatureLoadRowMapper),
    "MlNotes zero-shot classifier", ZeroShotClassifierTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Clip;

/// <summary>
/// The transformer of <see cref="ZeroShotClassifierEstimator"/>: holds one normalized embedding per label and scores each row's
/// embedding against them, softmax(logit scale x cosine). Needs no ONNX session.
/// </summary>
public sealed class ZeroShotClassifierTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "MlNotesZeroShot";

    private readonly string _inputColumn;
    private readonly string _scoreColumn;
    private readonly string _predictedLabelColumn;
    private readonly string[] _labels;
    private readonly float[] _labelEmbeddings;

    internal ZeroShotClassifierTransformer(IHostEnvironment env, string inputColumn, string scoreColumn, string predictedLabelColumn,
        string[] labels, float[] labelEmbeddings, int embeddingSize, float logitScale)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(ZeroShotClassifierTransformer)))
    {
        _inputColumn = inputColumn;
        _scoreColumn = scoreColumn;
        _predictedLabelColumn = predictedLabelColumn;
        _labels = labels;
        _labelEmbeddings = labelEmbeddings;
        EmbeddingSize = embeddingSize;
        LogitScale = logitScale;
    }

    /// <summary>The labels, in score slot order (the predicted label's key values).</summary>
    public IReadOnlyList<string> Labels => _labels;

    /// <summary>The logit scale multiplying the cosine similarities.</summary>
    public float LogitScale { get; }

    /// <summary>The embedding size.</summary>
    public int EmbeddingSize { get; }

    /// <summary>The normalized embedding of label <paramref name="label"/> (the mean of its prompt embeddings, normalized).</summary>
    /// <param name="label">0-based position in <see cref="Labels"/>.</param>
    public ReadOnlySpan<float> GetLabelEmbedding(int label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(label, _labels.Length);
        return _labelEmbeddings.AsSpan(label * EmbeddingSize, EmbeddingSize);
    }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveNonEmptyString(_inputColumn);
        ctx.SaveNonEmptyString(_scoreColumn);
        ctx.SaveNonEmptyString(_predictedLabelColumn);
        var writer = ctx.Writer;
        writer.Write(_labels.Length);
        foreach (string label in _labels)
        {
            ctx.SaveNonEmptyString(label);
        }

        writer.Write(EmbeddingSize);
        writer.Write(LogitScale);
        foreach (float v in _labelEmbeddings)
        {
            writer.Write(v);
        }
    }

    // Found by ML.NET's ComponentCatalog.
    internal static ZeroShotClassifierTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        var (input, score, predicted, count) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.Reader.ReadInt32()));
        var reader = ctx.Reader;
        ModelEntry.Check(ctx, count is > 0 and < 1_000_000, $"it holds {count} labels, not 1 to 999,999");
        var labels = new string[count];
        var (size, scale) = ModelEntry.Read(ctx, () =>
        {
            for (int i = 0; i < labels.Length; i++)
            {
                labels[i] = ctx.LoadNonEmptyString();
            }

            return (reader.ReadInt32(), reader.ReadSingle());
        });
        ModelEntry.Check(ctx, ModelEntry.First(
            labels.Distinct(StringComparer.Ordinal).Count() != labels.Length ? "its labels are not distinct" : null,
            size is < 1 or >= 1_000_000 || (long)count * size > int.MaxValue ? $"its embedding size {size} for {count} labels is not valid" : null,
            !(scale > 0) || !float.IsFinite(scale) ? $"its logit scale {ModelEntry.Text(scale)} is not a positive finite number" : null));
        var embeddings = ModelEntry.ReadFiniteSingles(ctx, count * size,
            (bad, value) => $"the label embedding of '{labels[bad / size]}' has the non-finite value {ModelEntry.Text(value)} at {bad % size}");
        return new ZeroShotClassifierTransformer(env, input, score, predicted, labels, embeddings, size, scale);
    }

    internal static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNZSHOT", LoaderSignature);

    private sealed class Mapper : MapperBase
    {
        private readonly ZeroShotClassifierTransformer _parent;
        private readonly int _input;
        private readonly ConditionalWeakTable<DataViewRow, RowScores> _rows = new();

        public Mapper(ZeroShotClassifierTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _parent = parent;
            var column = inputSchema.GetColumnOrNull(parent._inputColumn);
            if (column == null)
            {
                ThrowHelper.MissingColumn(nameof(inputSchema), parent._inputColumn);
            }

            if (column.Value.Type is not VectorDataViewType { ItemType: NumberDataViewType } vector || vector.ItemType != NumberDataViewType.Single || vector.Size != parent.EmbeddingSize)
            {
                ThrowHelper.SchemaMismatch(nameof(inputSchema), parent._inputColumn, $"Vector<Single, {parent.EmbeddingSize}>", $"{column.Value.Type}");
            }

            _input = column.Value.Index;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => ClassificationOutputs.Columns(_parent._scoreColumn, _parent._predictedLabelColumn, _parent._labels.Select(l => l.AsMemory()).ToArray());

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
            => column => column == _input && (activeOutput(0) || activeOutput(1));

        protected override void SaveModel(ModelSaveContext ctx) => _parent.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            // One per input row (cursor), shared by its Score and PredictedLabel getters: each row is scored once.
            var row = _rows.GetValue(input, r => new RowScores(_parent, r, _input));
            if (iinfo == 0)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    var probabilities = row.Probabilities();
                    var editor = VBufferEditor.Create(ref dst, probabilities.Length);
                    probabilities.CopyTo(editor.Values);
                    dst = editor.Commit();
                });
            }

            return (ValueGetter<uint>)((ref uint dst) => dst = row.Label());
        }

        /// <summary>The current row's probabilities and label, computed once per row whichever getters ask.</summary>
        private sealed class RowScores
        {
            private readonly ZeroShotClassifierTransformer _parent;
            private readonly DataViewRow _input;
            private readonly ValueGetter<VBuffer<float>> _get;
            private readonly float[] _embedding;
            private readonly float[] _logits;
            private readonly float[] _probabilities;
            private VBuffer<float> _buffer;
            private long _position = -1;
            private uint _label;

            public RowScores(ZeroShotClassifierTransformer parent, DataViewRow input, int column)
            {
                _parent = parent;
                _input = input;
                _get = input.GetGetter<VBuffer<float>>(input.Schema[column]);
                _embedding = new float[parent.EmbeddingSize];
                _logits = new float[parent._labels.Length];
                _probabilities = new float[parent._labels.Length];
            }

            public float[] Probabilities()
            {
                Compute();
                return _probabilities;
            }

            public uint Label()
            {
                Compute();
                return _label;
            }

            private void Compute()
            {
                if (_position == _input.Position)
                {
                    return;
                }

                _get(ref _buffer);
                _buffer.CopyTo(_embedding);
                _position = _input.Position;
                if (float.IsNaN(TensorPrimitives.Sum(_embedding)))
                {
                    // A NaN embedding (an unreadable image with ContinueOnError) gives NaN scores and a missing label.
                    Array.Fill(_probabilities, float.NaN);
                    _label = 0;
                    return;
                }

                EmbeddingMath.Normalize(_embedding);
                int d = _parent.EmbeddingSize;
                for (int label = 0; label < _logits.Length; label++)
                {
                    _logits[label] = _parent.LogitScale * TensorPrimitives.Dot(_embedding, _parent._labelEmbeddings.AsSpan(label * d, d));
                }

                ClassificationOutputs.Softmax(_logits, _probabilities);
                _label = float.IsNaN(_probabilities[0]) ? 0 : (uint)TensorPrimitives.IndexOfMax(_probabilities) + 1;
            }
        }
    }
}
