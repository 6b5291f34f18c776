using System;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

public sealed partial class OnnxImageClassifierTransformer
{
    /// <summary>One batch: images preprocessed straight into the input tensor, one run, then softmax and the rest per row.</summary>
    private sealed class Batch : IBatch
    {
        private readonly OnnxImageClassifierTransformer _parent;
        private readonly OnnxBatch _onnx;
        private readonly ImageSlotFiller _images;
        private readonly bool[] _activeOutputs;
        private readonly bool[] _failed;
        private readonly int _embeddingIndex;
        private readonly int _errorIndex;
        private readonly bool _hasTopK;
        private readonly float[] _probabilities;
        private readonly int[] _order;
        private int _fillingSlot;

        public Batch(OnnxImageClassifierTransformer parent, DataViewRow source, bool[] activeOutputs, int capacity)
        {
            _parent = parent;
            var c = parent.Config;
            _activeOutputs = activeOutputs;
            _failed = new bool[capacity];
            _images = parent._input.MakeFiller(source, c.Preprocessing, c.ErrorColumnName != null);
            _hasTopK = c.TopK > 0;
            int next = 2 + (_hasTopK ? 2 : 0);
            _embeddingIndex = c.EmbeddingColumnName != null ? next++ : -1;
            _errorIndex = c.ErrorColumnName != null ? next : -1;
            bool needLogits = activeOutputs[0] || activeOutputs[1] || (_hasTopK && (activeOutputs[2] || activeOutputs[3]));
            bool needEmbedding = _embeddingIndex >= 0 && activeOutputs[_embeddingIndex];
            var onnxActive = parent._outputs.Length == 2 ? new[] { needLogits, needEmbedding } : new[] { needLogits };
            var input = OnnxBatch.Computed<float>(parent._image, Fill, capacity);
            _onnx = new OnnxBatch(parent._model, new[] { input }, parent._outputs, onnxActive, capacity);
            _probabilities = new float[c.ClassNames.Length];
            _order = new int[c.ClassNames.Length];
        }

        public int Capacity => _onnx.Capacity;

        public int Count => _onnx.Count;

        public void Clear() => _onnx.Clear();

        public void Add(long position)
        {
            _fillingSlot = _onnx.Count;
            _onnx.Add(position);
        }

        public void Run() => _onnx.Run();

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            if (outputIndex == 0)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    int s = slot();
                    var editor = VBufferEditor.Create(ref dst, _probabilities.Length);
                    Softmax(s, editor.Values);
                    dst = editor.Commit();
                });
            }

            if (outputIndex == 1)
            {
                return (ValueGetter<uint>)((ref uint dst) =>
                {
                    int s = slot();
                    dst = _failed[s] ? 0 : ClassificationOutputs.PredictedKey(_onnx.OutputRow<float>(0, s));
                });
            }

            if (_hasTopK && outputIndex == 2)
            {
                int k = _parent.Config.TopK;
                return (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) =>
                {
                    int s = slot();
                    var editor = VBufferEditor.Create(ref dst, k);
                    Rank(s);
                    for (int i = 0; i < k; i++)
                    {
                        editor.Values[i] = _failed[s] ? ReadOnlyMemory<char>.Empty : _parent._classNames[_order[i]];
                    }

                    dst = editor.Commit();
                });
            }

            if (_hasTopK && outputIndex == 3)
            {
                int k = _parent.Config.TopK;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    int s = slot();
                    var editor = VBufferEditor.Create(ref dst, k);
                    Rank(s);
                    for (int i = 0; i < k; i++)
                    {
                        editor.Values[i] = _failed[s] ? float.NaN : _probabilities[_order[i]];
                    }

                    dst = editor.Commit();
                });
            }

            if (outputIndex == _embeddingIndex)
            {
                int size = _parent._outputs[1].Tensor.RowElements;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    int s = slot();
                    var editor = VBufferEditor.Create(ref dst, size);
                    if (_failed[s])
                    {
                        editor.Values.Fill(float.NaN);
                    }
                    else
                    {
                        _onnx.OutputRow<float>(1, s).CopyTo(editor.Values);
                    }

                    dst = editor.Commit();
                });
            }

            if (outputIndex == _errorIndex)
            {
                return (ValueGetter<bool>)((ref bool dst) => dst = _failed[slot()]);
            }

            throw new InvalidOperationException($"No output {outputIndex}.");
        }

        public void Dispose() => _onnx.Dispose();

        private void Fill(Span<float> destination, long position)
        {
            bool read = _images.TryFill(destination, position);
            _failed[_fillingSlot] = !read;
            if (!read)
            {
                Interlocked.Increment(ref _parent._errorCount);
            }
        }

        private void Softmax(int slot, Span<float> destination)
        {
            if (_failed[slot])
            {
                destination.Fill(float.NaN);
                return;
            }

            ClassificationOutputs.Softmax(_onnx.OutputRow<float>(0, slot), destination);
        }

        private void Rank(int slot)
        {
            Softmax(slot, _probabilities);
            for (int i = 0; i < _order.Length; i++)
            {
                _order[i] = i;
            }

            // Highest first; ties keep the lower class index first.
            Array.Sort(_order, (a, b) => _probabilities[b] != _probabilities[a] ? _probabilities[b].CompareTo(_probabilities[a]) : a.CompareTo(b));
        }
    }
}
