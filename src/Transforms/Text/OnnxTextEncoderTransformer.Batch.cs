using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Text;

public sealed partial class OnnxTextEncoderTransformer
{
    /// <summary>
    /// A window of rows: tokenized as they are added; on <see cref="Run"/> sorted by length and cut into runs of BatchSize,
    /// each padded to its own longest row and scored through the engine's <see cref="OnnxBatch"/>; each row's embedding,
    /// probabilities, label and token states are computed there once, and the getters copy them out.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly OnnxTextEncoderTransformer _parent;
        private readonly ValueGetter<ReadOnlyMemory<char>> _text;
        private readonly List<int> _ids = new();
        private readonly int[] _offsets;
        private readonly int[] _order;
        private readonly long[] _positions;
        private readonly bool _wantEmbedding, _wantClasses, _wantTokens;
        private readonly OnnxBatch? _onnx;
        private readonly float[] _embeddings;
        private readonly float[] _scores;
        private readonly uint[] _labels;
        private readonly float[][] _tokens;
        private readonly float[] _states = Array.Empty<float>();
        private readonly float[] _logits;
        private ReadOnlyMemory<char> _value;

        public Batch(OnnxTextEncoderTransformer parent, DataViewRow source, bool[] active, int capacity)
        {
            _parent = parent;
            var c = parent.Config;
            Capacity = capacity;
            _text = source.GetGetter<ReadOnlyMemory<char>>(source.Schema[c.InputColumnName]);
            _offsets = new int[capacity + 1];
            _order = new int[capacity];
            _positions = new long[capacity];
            for (int i = 0; i < parent._columns.Length; i++)
            {
                switch (parent._columns[i].Kind)
                {
                    case TextOutputKind.Embedding: _wantEmbedding |= active[i]; break;
                    case TextOutputKind.Score or TextOutputKind.PredictedLabel: _wantClasses |= active[i]; break;
                    default: _wantTokens |= active[i]; break;
                }
            }

            _embeddings = new float[capacity * c.EmbeddingSize];
            _scores = new float[capacity * c.ClassNames.Length];
            _logits = new float[c.ClassNames.Length];
            _labels = new uint[capacity];
            _tokens = new float[capacity][];
            var graph = parent._graphOutputs;
            bool[] onnxActive =
            {
                graph.Hidden != null && ((_wantEmbedding && c.Pooling != TextPooling.Graph) || _wantTokens),
                graph.Pooled != null && _wantEmbedding && c.Pooling == TextPooling.Graph,
                graph.Logits != null && _wantClasses,
            };
            if (Array.IndexOf(onnxActive, true) >= 0)
            {
                if (onnxActive[0] && c.Pooling != TextPooling.Graph)
                {
                    _states = new float[c.HiddenSize];
                }

                // Last: nothing after it may throw, or its session reference would never be released.
                _onnx = parent.CreateOnnxBatch(TokenId, (row, t) => t < Length(row) ? 1 : 0, onnxActive, Math.Min(c.BatchSize, capacity));
            }
        }

        public int Capacity { get; }

        public int Count { get; private set; }

        public void Clear()
        {
            Count = 0;
            _ids.Clear();
        }

        public void Add(long position)
        {
            _text(ref _value);
            // A missing (null) text reads as empty: it encodes to [CLS] [SEP].
            var ids = _parent.Encode(_value.ToString(), out bool truncated);
            if (truncated)
            {
                Interlocked.Increment(ref _parent._truncated);
            }

            _ids.AddRange(ids);
            _positions[Count] = position;
            _offsets[Count + 1] = _ids.Count;
            Count++;
        }

        public void Run()
        {
            if (_onnx == null || Count == 0)
            {
                return;
            }

            for (int i = 0; i < Count; i++)
            {
                _order[i] = i;
            }

            // Stable sort by length: equal lengths keep their order, so results do not depend on the sort.
            Array.Sort(_order, 0, Count, Comparer<int>.Create((a, b) => Length(a) != Length(b) ? Length(a).CompareTo(Length(b)) : a.CompareTo(b)));
            int batch = _onnx.Capacity;
            for (int start = 0; start < Count; start += batch)
            {
                RunGroup(start, Math.Min(batch, Count - start));
            }
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            var c = _parent.Config;
            int size = c.EmbeddingSize, classes = c.ClassNames.Length;
            return _parent._columns[outputIndex].Kind switch
            {
                TextOutputKind.Embedding => Vector(() => _embeddings.AsSpan(slot() * size, size)),
                TextOutputKind.Score => Vector(() => _scores.AsSpan(slot() * classes, classes)),
                TextOutputKind.PredictedLabel => (ValueGetter<uint>)((ref uint dst) => dst = _labels[slot()]),
                _ => Vector(() => _tokens[slot()]),
            };
        }

        public void Dispose() => _onnx?.Dispose();

        private static ValueGetter<VBuffer<float>> Vector(SpanSource values) => (ref VBuffer<float> dst) =>
        {
            var row = values();
            var editor = VBufferEditor.Create(ref dst, row.Length);
            row.CopyTo(editor.Values);
            dst = editor.Commit();
        };

        private int Length(int row) => _offsets[row + 1] - _offsets[row];

        private long TokenId(int row, int t) => t < Length(row) ? _ids[_offsets[row] + t] : _parent._tokenizer.PadId;

        // Rows _order[start .. start + count): one engine batch padded to the longest; then each row's outputs, once.
        private void RunGroup(int start, int count)
        {
            var onnx = _onnx!;
            int width = Length(_order[start + count - 1]); // sorted: the last is the longest
            onnx.Clear();
            onnx.SequenceLength = width;
            for (int i = 0; i < count; i++)
            {
                int row = _order[start + i];
                onnx.Add(_positions[row], row);
            }

            onnx.Run();
            var c = _parent.Config;
            int d = c.HiddenSize, size = c.EmbeddingSize, classes = c.ClassNames.Length;
            for (int i = 0; i < count; i++)
            {
                int row = _order[start + i], length = Length(row);
                if (_wantTokens || (_wantEmbedding && c.Pooling != TextPooling.Graph))
                {
                    var states = _wantTokens ? (_tokens[row] = new float[length * d]) : _states.Length >= length * d ? _states : new float[length * d];
                    _parent.ReadFloats(onnx, 0, i, states.AsSpan(0, length * d));
                    if (_wantEmbedding && c.Pooling != TextPooling.Graph)
                    {
                        Pool(c.Pooling, states.AsSpan(0, length * d), length, d, _embeddings.AsSpan(row * size, size));
                    }
                }

                if (_wantEmbedding && c.Pooling == TextPooling.Graph)
                {
                    _parent.ReadFloats(onnx, 1, i, _embeddings.AsSpan(row * size, size));
                }

                if (_wantEmbedding && c.Normalize)
                {
                    EmbeddingMath.Normalize(_embeddings.AsSpan(row * size, size));
                }

                if (_wantClasses)
                {
                    _parent.ReadFloats(onnx, 2, i, _logits);
                    ClassificationOutputs.Softmax(_logits, _scores.AsSpan(row * classes, classes));
                    _labels[row] = ClassificationOutputs.PredictedKey(_logits);
                }
            }
        }

        // One text's token states (length x d, pads already left out) -> its embedding.
        private static void Pool(TextPooling pooling, ReadOnlySpan<float> row, int length, int d, Span<float> pooled)
        {
            switch (pooling)
            {
                case TextPooling.Cls:
                    row[..d].CopyTo(pooled);
                    break;
                case TextPooling.EndOfText:
                    row.Slice((length - 1) * d, d).CopyTo(pooled);
                    break;
                case TextPooling.Max:
                    row[..d].CopyTo(pooled);
                    for (int t = 1; t < length; t++)
                    {
                        for (int k = 0; k < d; k++)
                        {
                            pooled[k] = Math.Max(pooled[k], row[(t * d) + k]);
                        }
                    }

                    break;
                default:
                    pooled.Clear();
                    for (int t = 0; t < length; t++)
                    {
                        for (int k = 0; k < d; k++)
                        {
                            pooled[k] += row[(t * d) + k];
                        }
                    }

                    float divisor = pooling == TextPooling.MeanSqrtLength ? MathF.Sqrt(length) : length;
                    for (int k = 0; k < d; k++)
                    {
                        pooled[k] /= divisor;
                    }

                    break;
            }
        }

        private delegate Span<float> SpanSource();
    }
}
