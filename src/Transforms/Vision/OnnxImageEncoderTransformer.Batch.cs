using System;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

public sealed partial class OnnxImageEncoderTransformer
{
    /// <summary>One batch: images preprocessed straight into the input tensor, one run, the embedding normalized per row.</summary>
    private sealed class Batch : IBatch
    {
        private readonly OnnxImageEncoderTransformer _parent;
        private readonly OnnxBatch _onnx;
        private readonly ImageSlotFiller _images;
        private readonly bool[] _failed;
        private int _fillingSlot;

        public Batch(OnnxImageEncoderTransformer parent, DataViewRow source, bool[] activeOutputs, int capacity)
        {
            _parent = parent;
            _failed = new bool[capacity];
            _images = parent._input.MakeFiller(source, parent.Config.Preprocessing, parent.Config.ErrorColumnName != null);
            var input = OnnxBatch.Computed<float>(parent._image, Fill, capacity);
            _onnx = new OnnxBatch(parent._model, new[] { input }, new[] { parent._embedding }, new[] { activeOutputs[0] }, capacity);
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
                int size = _parent.EmbeddingSize;
                bool normalize = _parent.Config.Normalize;
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
                        _onnx.OutputRow<float>(0, s).CopyTo(editor.Values);
                        if (normalize)
                        {
                            EmbeddingMath.Normalize(editor.Values);
                        }
                    }

                    dst = editor.Commit();
                });
            }

            if (outputIndex == 1 && _parent.Config.ErrorColumnName != null)
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
    }
}
