using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Text;

public sealed partial class OnnxTextEncoderTransformer
{
    /// <summary>
    /// A window of rows: tokenized as they are added; on <see cref="Run"/> sorted by length and cut into runs of BatchSize,
    /// each padded to its own longest row, so short texts never pay for long ones. Results go back to the rows' own slots.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly OnnxTextEncoderTransformer _parent;
        private readonly ValueGetter<ReadOnlyMemory<char>> _text;
        private readonly List<int> _ids = new();
        private readonly int[] _offsets;
        private readonly int[] _order;
        private readonly bool _wantEmbedding, _wantClasses, _wantTokens;
        private readonly string[] _outputNames;
        private readonly float[] _embeddings;
        private readonly float[] _logits;
        private readonly float[][] _tokens;
        private readonly RunOptions _runOptions = new();
        private readonly OnnxModel.SessionLease _lease;
        private long[] _idBuffer = Array.Empty<long>(), _maskBuffer = Array.Empty<long>(), _typeBuffer = Array.Empty<long>();
        private ReadOnlyMemory<char> _value;

        public Batch(OnnxTextEncoderTransformer parent, DataViewRow source, bool[] active, int capacity)
        {
            _parent = parent;
            var c = parent.Config;
            Capacity = capacity;
            _text = source.GetGetter<ReadOnlyMemory<char>>(source.Schema[c.InputColumnName]);
            _offsets = new int[capacity + 1];
            _order = new int[capacity];
            int next = 1;
            _wantEmbedding = active[0];
            if (c.ScoreColumnName != null)
            {
                _wantClasses = active[1] || active[2];
                next = 3;
            }

            _wantTokens = c.TokenEmbeddingsColumnName != null && active[next];
            var names = new List<string>();
            if ((_wantEmbedding && c.Pooling != TextPooling.Graph) || _wantTokens)
            {
                names.Add(c.HiddenStateTensorName!);
            }

            if (_wantEmbedding && c.Pooling == TextPooling.Graph)
            {
                names.Add(c.PooledTensorName!);
            }

            if (_wantClasses)
            {
                names.Add(c.LogitsTensorName!);
            }

            _outputNames = names.ToArray();
            _embeddings = new float[capacity * c.EmbeddingSize];
            _logits = new float[capacity * Math.Max(c.ClassNames.Length, 1)];
            _tokens = new float[capacity][];
            // Last: nothing after it may throw, or the reference would never be released.
            _lease = parent._model.Lease();
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
            _offsets[Count + 1] = _ids.Count;
            Count++;
        }

        public void Run()
        {
            if (_outputNames.Length == 0 || Count == 0)
            {
                return;
            }

            for (int i = 0; i < Count; i++)
            {
                _order[i] = i;
            }

            // Stable sort by length: equal lengths keep their order, so results do not depend on the sort.
            Array.Sort(_order, 0, Count, Comparer<int>.Create((a, b) => Length(a) != Length(b) ? Length(a).CompareTo(Length(b)) : a.CompareTo(b)));
            int batch = _parent.Config.BatchSize;
            for (int start = 0; start < Count; start += batch)
            {
                RunGroup(_order.AsSpan(start, Math.Min(batch, Count - start)).ToArray());
            }
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            var c = _parent.Config;
            int size = c.EmbeddingSize, classes = c.ClassNames.Length;
            if (outputIndex == 0)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    var editor = VBufferEditor.Create(ref dst, size);
                    _embeddings.AsSpan(slot() * size, size).CopyTo(editor.Values);
                    dst = editor.Commit();
                });
            }

            if (c.ScoreColumnName != null && outputIndex == 1)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    var editor = VBufferEditor.Create(ref dst, classes);
                    ClassificationOutputs.Softmax(_logits.AsSpan(slot() * classes, classes), editor.Values);
                    dst = editor.Commit();
                });
            }

            if (c.ScoreColumnName != null && outputIndex == 2)
            {
                return (ValueGetter<uint>)((ref uint dst) =>
                {
                    dst = ClassificationOutputs.PredictedKey(_logits.AsSpan(slot() * classes, classes));
                });
            }

            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
            {
                var tokens = _tokens[slot()];
                var editor = VBufferEditor.Create(ref dst, tokens.Length);
                tokens.CopyTo(editor.Values);
                dst = editor.Commit();
            });
        }

        public void Dispose()
        {
            _runOptions.Dispose();
            _lease.Dispose();
        }

        private int Length(int slot) => _offsets[slot + 1] - _offsets[slot];

        private void RunGroup(int[] rows)
        {
            var c = _parent.Config;
            int n = rows.Length;
            int width = rows.Max(Length);
            int cells = n * width;
            if (_idBuffer.Length < cells)
            {
                _idBuffer = GC.AllocateUninitializedArray<long>(cells, pinned: true);
                _maskBuffer = GC.AllocateUninitializedArray<long>(cells, pinned: true);
                _typeBuffer = GC.AllocateArray<long>(cells, pinned: true);
            }

            long pad = _parent._tokenizer.PaddingTokenId;
            for (int r = 0; r < n; r++)
            {
                int start = _offsets[rows[r]], length = Length(rows[r]);
                for (int t = 0; t < width; t++)
                {
                    bool real = t < length;
                    _idBuffer[(r * width) + t] = real ? _ids[start + t] : pad;
                    _maskBuffer[(r * width) + t] = real ? 1 : 0;
                }
            }

            var shape = new long[] { n, width };
            var names = new List<string> { c.InputIdsTensorName };
            var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _idBuffer.AsMemory(0, cells), shape) };
            if (c.AttentionMaskTensorName != null)
            {
                names.Add(c.AttentionMaskTensorName);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _maskBuffer.AsMemory(0, cells), shape));
            }

            if (c.TokenTypeIdsTensorName != null)
            {
                _typeBuffer.AsSpan(0, cells).Clear();
                names.Add(c.TokenTypeIdsTensorName);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _typeBuffer.AsMemory(0, cells), shape));
            }

            try
            {
                using var results = _lease.Session.Run(_runOptions, names, values, _outputNames);
                _parent._model.CountRun();
                for (int o = 0; o < _outputNames.Length; o++)
                {
                    string name = _outputNames[o];
                    var data = results[o].GetTensorDataAsSpan<float>();
                    if (name == c.HiddenStateTensorName)
                    {
                        Hidden(rows, width, data);
                    }

                    if (name == c.PooledTensorName && _wantEmbedding && c.Pooling == TextPooling.Graph)
                    {
                        for (int r = 0; r < n; r++)
                        {
                            Store(rows[r], data.Slice(r * c.EmbeddingSize, c.EmbeddingSize));
                        }
                    }

                    if (name == c.LogitsTensorName)
                    {
                        int classes = c.ClassNames.Length;
                        for (int r = 0; r < n; r++)
                        {
                            data.Slice(r * classes, classes).CopyTo(_logits.AsSpan(rows[r] * classes, classes));
                        }
                    }
                }
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidOperationException($"ONNX Runtime failed while encoding a run of {n} texts (up to {width} tokens) with model {_parent._model.Name}: {e.Message}", e);
            }
            finally
            {
                values.ForEach(v => v.Dispose());
            }
        }

        // (n, width, D) token states -> pooled embeddings and token-level rows; pads are never read.
        private void Hidden(int[] rows, int width, ReadOnlySpan<float> states)
        {
            var c = _parent.Config;
            int d = c.HiddenSize; // the token states' size: a pooled output (Graph pooling) may have another
            Span<float> pooled = stackalloc float[d];
            for (int r = 0; r < rows.Length; r++)
            {
                int length = Length(rows[r]);
                var row = states.Slice(r * width * d, length * d);
                if (_wantTokens)
                {
                    _tokens[rows[r]] = row.ToArray();
                }

                if (!_wantEmbedding || c.Pooling == TextPooling.Graph)
                {
                    continue;
                }

                switch (c.Pooling)
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

                        float divisor = c.Pooling == TextPooling.MeanSqrtLength ? MathF.Sqrt(length) : length;
                        for (int k = 0; k < d; k++)
                        {
                            pooled[k] /= divisor;
                        }

                        break;
                }

                Store(rows[r], pooled);
            }
        }

        private void Store(int slot, ReadOnlySpan<float> embedding)
        {
            int d = _parent.Config.EmbeddingSize;
            var target = _embeddings.AsSpan(slot * d, d);
            embedding.CopyTo(target);
            if (_parent.Config.Normalize)
            {
                EmbeddingMath.Normalize(target);
            }
        }
    }
}
