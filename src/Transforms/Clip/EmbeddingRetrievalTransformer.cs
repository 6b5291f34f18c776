using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(EmbeddingRetrievalTransformer), null, typeof(SignatureLoadModel),
    "MlNotes embedding retrieval", EmbeddingRetrievalTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Clip;

/// <summary>The transformer of <see cref="EmbeddingRetrievalEstimator"/>: the index, searched for each batch of query rows.</summary>
public sealed class EmbeddingRetrievalTransformer : ITransformer, IBatchedMapper
{
    internal const string LoaderSignature = "MlNotesEmbedRetrieval";

    private readonly IHost _host;
    private readonly EmbeddingRetrievalEstimator.Options _options;
    private readonly EmbeddingIndex _index;
    private readonly ReadOnlyMemory<char>[]? _keys;

    internal EmbeddingRetrievalTransformer(IHostEnvironment env, EmbeddingRetrievalEstimator.Options options, EmbeddingIndex index, string[]? keys)
    {
        _host = env.Register(nameof(EmbeddingRetrievalTransformer));
        _options = options;
        _index = index;
        _keys = keys == null ? null : Array.ConvertAll(keys, k => k.AsMemory());
        TopK = Math.Min(options.TopK, index.Count);
    }

    /// <summary>Rows in the index.</summary>
    public int IndexSize => _index.Count;

    /// <summary>The embedding size.</summary>
    public int EmbeddingSize => _index.Dimension;

    /// <summary>Matches per query: the option, or the index size when smaller.</summary>
    public int TopK { get; }

    /// <summary>True: <c>PredictionEngine</c> works.</summary>
    public bool IsRowToRowMapper => true;

    int IBatchedMapper.BatchSize => _options.BatchSize;

    /// <summary>The input schema plus the top-k columns.</summary>
    /// <param name="inputSchema">The schema of the queries.</param>
    /// <exception cref="ArgumentOutOfRangeException">The query column is missing, not a Single vector, or not of the index's size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.GetColumnOrNull(_options.InputColumnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(inputSchema), _options.InputColumnName);
        }

        if (column.Value.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || (vector.Size != 0 && vector.Size != _index.Dimension))
        {
            ThrowHelper.SchemaMismatch(nameof(inputSchema), _options.InputColumnName,
                $"Vector<Single, {_index.Dimension}> (the size of the indexed embeddings)", $"{column.Value.Type}");
        }

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(_options.IndicesColumnName, new VectorDataViewType(NumberDataViewType.Int32, TopK));
        builder.AddColumn(_options.ScoresColumnName, new VectorDataViewType(NumberDataViewType.Single, TopK));
        if (_keys != null)
        {
            builder.AddColumn(_options.KeysColumnName, new VectorDataViewType(TextDataViewType.Instance, TopK));
        }

        return builder.ToSchema();
    }

    /// <summary>Searches the index for every row of <paramref name="input"/>, lazily, in batches of queries.</summary>
    /// <param name="input">The queries.</param>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new BatchedDataView(this, input);
    }

    /// <summary>A row-to-row mapper for <c>PredictionEngine</c>.</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new BatchedRowMapper(this, inputSchema);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveNonEmptyString(_options.InputColumnName);
        ctx.SaveNonEmptyString(_options.IndicesColumnName);
        ctx.SaveNonEmptyString(_options.ScoresColumnName);
        ctx.SaveNonEmptyString(_options.KeysColumnName);
        var writer = ctx.Writer;
        writer.Write(_options.TopK);
        writer.Write(_options.BatchSize);
        writer.Write(_index.Count);
        writer.Write(_index.Dimension);
        foreach (float v in _index.Vectors)
        {
            writer.Write(v);
        }

        writer.Write(_keys != null);
        if (_keys != null)
        {
            foreach (var key in _keys)
            {
                ctx.SaveString(key);
            }
        }
    }

    IEnumerable<string> IBatchedMapper.InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => new[] { _options.InputColumnName };

    IBatch IBatchedMapper.CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, capacity);

    void IBatchedMapper.ThrowIfDisposed()
    {
    }

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNRETRV", LoaderSignature);

    // Found by ML.NET's ComponentCatalog.
    private static EmbeddingRetrievalTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ctx.CheckAtModel(GetVersionInfo());
        var options = ModelEntry.Read(ctx, () => new EmbeddingRetrievalEstimator.Options
        {
            InputColumnName = ctx.LoadNonEmptyString(),
            IndicesColumnName = ctx.LoadNonEmptyString(),
            ScoresColumnName = ctx.LoadNonEmptyString(),
            KeysColumnName = ctx.LoadNonEmptyString(),
            TopK = ctx.Reader.ReadInt32(),
            BatchSize = ctx.Reader.ReadInt32(),
        });
        var reader = ctx.Reader;
        var (count, dimension) = ModelEntry.Read(ctx, () => (reader.ReadInt32(), reader.ReadInt32()));
        ModelEntry.Check(ctx, ModelEntry.First(
            options.TopK < 1 ? $"its top k is {options.TopK}, not at least 1" : null,
            options.BatchSize < 1 ? $"its batch size is {options.BatchSize}, not at least 1" : null,
            count < 1 || dimension < 1 || (long)count * dimension > int.MaxValue ? $"its index of {count} x {dimension} values has no valid size" : null,
            reader.BaseStream.CanSeek && (long)count * dimension * sizeof(float) > reader.BaseStream.Length - reader.BaseStream.Position
                ? $"its index of {count} x {dimension} values is larger than the entry (wrong counts)" : null));
        var vectors = ModelEntry.ReadFiniteSingles(ctx, count * dimension,
            (bad, value) => $"its index row {bad / dimension} has the non-finite value {ModelEntry.Text(value)} at {bad % dimension}");
        string[]? keys = ModelEntry.Read(ctx, () =>
        {
            if (!reader.ReadBoolean())
            {
                return null;
            }

            var saved = new string[count];
            for (int i = 0; i < count; i++)
            {
                saved[i] = ctx.LoadString();
            }

            return saved;
        });
        if (keys != null)
        {
            options.IndexKeyColumnName = options.KeysColumnName;
        }

        return new EmbeddingRetrievalTransformer(env, options, new EmbeddingIndex(vectors, count, dimension, normalized: true), keys);
    }

    /// <summary>A batch of queries: read and normalized as they are added, searched together.</summary>
    private sealed class Batch : IBatch
    {
        private readonly EmbeddingRetrievalTransformer _parent;
        private readonly ValueGetter<VBuffer<float>> _get;
        private readonly float[] _queries;
        private readonly bool[] _missing;
        private readonly int[] _order; // batch slot -> row of the search (queries with a NaN are not searched)
        private readonly int[] _indices;
        private readonly float[] _scores;
        private readonly EmbeddingIndex.Workspace _workspace = new();
        private VBuffer<float> _buffer;
        private int _searched;

        public Batch(EmbeddingRetrievalTransformer parent, DataViewRow source, int capacity)
        {
            _parent = parent;
            _get = source.GetGetter<VBuffer<float>>(source.Schema[parent._options.InputColumnName]);
            Capacity = capacity;
            _queries = new float[capacity * parent._index.Dimension];
            _missing = new bool[capacity];
            _order = new int[capacity];
            _indices = new int[capacity * parent.TopK];
            _scores = new float[capacity * parent.TopK];
        }

        public int Capacity { get; }

        public int Count { get; private set; }

        public void Clear()
        {
            Count = 0;
            _searched = 0;
        }

        public void Add(long position)
        {
            int d = _parent._index.Dimension;
            _get(ref _buffer);
            if (_buffer.Length != d)
            {
                ThrowHelper.InvalidOperation($"Row {position} of column '{_parent._options.InputColumnName}' has {_buffer.Length} values; the index holds {d}-dimensional embeddings.");
            }

            var target = _queries.AsSpan(_searched * d, d);
            _buffer.CopyTo(target);
            bool missing = float.IsNaN(System.Numerics.Tensors.TensorPrimitives.Sum(target));
            _missing[Count] = missing;
            if (!missing)
            {
                EmbeddingMath.Normalize(target);
                _order[Count] = _searched++;
            }

            Count++;
        }

        public void Run()
        {
            int k = _parent.TopK;
            _parent._index.Search(_queries, _searched, k, _indices, _scores, _workspace);
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            int k = _parent.TopK;
            if (outputIndex == 0)
            {
                return (ValueGetter<VBuffer<int>>)((ref VBuffer<int> dst) =>
                {
                    int s = slot();
                    var editor = VBufferEditor.Create(ref dst, k);
                    if (_missing[s])
                    {
                        editor.Values.Fill(-1);
                    }
                    else
                    {
                        _indices.AsSpan(_order[s] * k, k).CopyTo(editor.Values);
                    }

                    dst = editor.Commit();
                });
            }

            if (outputIndex == 1)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    int s = slot();
                    var editor = VBufferEditor.Create(ref dst, k);
                    if (_missing[s])
                    {
                        editor.Values.Fill(float.NaN);
                    }
                    else
                    {
                        _scores.AsSpan(_order[s] * k, k).CopyTo(editor.Values);
                    }

                    dst = editor.Commit();
                });
            }

            var keys = _parent._keys ?? throw new InvalidOperationException($"No output {outputIndex}.");
            return (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) =>
            {
                int s = slot();
                var editor = VBufferEditor.Create(ref dst, k);
                for (int i = 0; i < k; i++)
                {
                    editor.Values[i] = _missing[s] ? ReadOnlyMemory<char>.Empty : keys[_indices[(_order[s] * k) + i]];
                }

                dst = editor.Commit();
            });
        }

        public void Dispose()
        {
        }
    }
}
