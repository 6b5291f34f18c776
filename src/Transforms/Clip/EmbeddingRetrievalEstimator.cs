using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Clip;

/// <summary>
/// Exact embedding search: <see cref="Fit"/> indexes the embeddings of a data set (images, say), and the transformer returns, for
/// each query row (a caption's embedding, say), the k most similar indexed rows by cosine, best first. Create it with
/// <c>mlContext.Transforms.RetrieveNearestEmbeddings</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | Yes: the data it is fitted on is the index |
/// | Input column data type | Known-size vector of Single (the query embedding) |
/// | Output column data type | `TopKIndices`: vector of Int32 (0-based rows of the index data); `TopKScores`: vector of Single (cosine); `TopKKeys`: vector of Text (with `IndexKeyColumnName`) |
/// | Exportable to ONNX | No |
///
/// The search is exact: queries are scored in batches against the whole index as a matrix product (register-tiled on 256-bit
/// vectors, the index packed in cache-sized blocks), keeping the k best per query with a heap; ties go to the lower index.
/// The index vectors (normalized) and keys are saved in the model. A query with a NaN gets index -1 and NaN scores.
/// ]]></format>
/// </remarks>
public sealed class EmbeddingRetrievalEstimator : IEstimator<EmbeddingRetrievalTransformer>
{
    private readonly IHost _host;
    private readonly Options _options;

    internal EmbeddingRetrievalEstimator(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(EmbeddingRetrievalEstimator));
        _options = options.Clone();
        if (_options.TopK < 1)
        {
            ThrowHelper.BadOption(nameof(options.TopK), $"TopK must be at least 1, got {_options.TopK}.");
        }

        Onnx.OnnxScoringTransformer.CheckBatchSize(_options.BatchSize);
        if (string.IsNullOrEmpty(_options.InputColumnName))
        {
            ThrowHelper.BadOption(nameof(options.InputColumnName), "InputColumnName must not be empty.");
        }
    }

    /// <summary>Reads every row of the index column (and keys) from <paramref name="input"/> and builds the index.</summary>
    /// <param name="input">The data to search: its rows are the index.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type.</exception>
    /// <exception cref="InvalidOperationException">The data has no rows, a row has the wrong length or a NaN.</exception>
    public EmbeddingRetrievalTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string indexColumn = _options.IndexColumnName ?? _options.InputColumnName;
        var column = input.Schema.GetColumnOrNull(indexColumn);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(input), indexColumn);
        }

        if (column.Value.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single)
        {
            ThrowHelper.SchemaMismatch(nameof(input), indexColumn, "a vector of Single", $"{column.Value.Type}");
            return null!;
        }

        DataViewSchema.Column? keyColumn = null;
        if (_options.IndexKeyColumnName != null)
        {
            keyColumn = input.Schema.GetColumnOrNull(_options.IndexKeyColumnName);
            if (keyColumn == null)
            {
                ThrowHelper.MissingColumn(nameof(input), _options.IndexKeyColumnName);
            }

            if (keyColumn.Value.Type is not TextDataViewType)
            {
                ThrowHelper.SchemaMismatch(nameof(input), _options.IndexKeyColumnName, "Text", $"{keyColumn.Value.Type}");
            }
        }

        int dimension = vector.Size;
        var values = new List<float>();
        var keys = keyColumn != null ? new List<string>() : null;
        var active = keyColumn != null ? new[] { column.Value, keyColumn.Value } : new[] { column.Value };
        using (var cursor = input.GetRowCursor(active))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column.Value);
            var keyGetter = keyColumn != null ? cursor.GetGetter<ReadOnlyMemory<char>>(keyColumn.Value) : null;
            VBuffer<float> row = default;
            ReadOnlyMemory<char> key = default;
            long position = 0;
            while (cursor.MoveNext())
            {
                getter(ref row);
                if (dimension == 0)
                {
                    dimension = row.Length;
                }

                if (row.Length != dimension || dimension == 0)
                {
                    ThrowHelper.InvalidOperation($"Row {position} of column '{indexColumn}' has {row.Length} values; the index rows have {dimension}.");
                }

                foreach (float v in row.DenseValues())
                {
                    if (!float.IsFinite(v))
                    {
                        ThrowHelper.InvalidOperation($"Row {position} of column '{indexColumn}' has a non-finite value ({v}): an index cannot hold it.");
                    }

                    values.Add(v);
                }

                if (keyGetter != null)
                {
                    keyGetter(ref key);
                    keys!.Add(key.ToString());
                }

                position++;
            }
        }

        if (values.Count == 0)
        {
            ThrowHelper.InvalidOperation($"The data to index has no rows (column '{indexColumn}').");
        }

        var index = new EmbeddingIndex(values.ToArray(), values.Count / dimension, dimension, normalized: false);
        return new EmbeddingRetrievalTransformer(_host, _options, index, keys?.ToArray());
    }

    /// <summary>The input columns plus the top-k columns.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        static SchemaShape.Column Vector(string name, DataViewType type) => new(name, SchemaShape.Column.VectorKind.Vector, type, false);
        var added = new List<SchemaShape.Column> { Vector(_options.IndicesColumnName, NumberDataViewType.Int32), Vector(_options.ScoresColumnName, NumberDataViewType.Single) };
        if (_options.IndexKeyColumnName != null)
        {
            added.Add(Vector(_options.KeysColumnName, TextDataViewType.Instance));
        }

        return SchemaShapes.Extend(inputSchema, [new ColumnRead(_options.InputColumnName, SchemaShapes.IsAnySingleVector, "a vector of Single")], added);
    }

    /// <summary>Options of <see cref="EmbeddingRetrievalEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>The query embedding column of the data to transform.</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The embedding column of the data to index. Default: <see cref="InputColumnName"/>.</summary>
        public string? IndexColumnName { get; set; }

        /// <summary>A text column of the data to index (a path, an id) returned with the matches; null for none.</summary>
        public string? IndexKeyColumnName { get; set; }

        /// <summary>Matches per query (at most the index size).</summary>
        public int TopK { get; set; } = Defaults.TopK;

        /// <summary>The column of matched row indices.</summary>
        public string IndicesColumnName { get; set; } = Defaults.IndicesColumnName;

        /// <summary>The column of matched cosine similarities.</summary>
        public string ScoresColumnName { get; set; } = Defaults.ScoresColumnName;

        /// <summary>The column of matched keys (with <see cref="IndexKeyColumnName"/>).</summary>
        public string KeysColumnName { get; set; } = Defaults.KeysColumnName;

        /// <summary>Queries searched together (one pass over the index per batch).</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;

        internal Options Clone() => (Options)MemberwiseClone();
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The query embedding column.</summary>
        public const string InputColumnName = "Embedding";

        /// <summary>Matches per query.</summary>
        public const int TopK = 5;

        /// <summary>The column of matched row indices.</summary>
        public const string IndicesColumnName = "TopKIndices";

        /// <summary>The column of matched similarities.</summary>
        public const string ScoresColumnName = "TopKScores";

        /// <summary>The column of matched keys.</summary>
        public const string KeysColumnName = "TopKKeys";

        /// <summary>Queries per batch.</summary>
        public const int BatchSize = 64;
    }
}
