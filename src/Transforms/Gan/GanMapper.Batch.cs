using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Gan;

internal sealed partial class GanMapper
{
    /// <summary>
    /// One batch, one ONNX Runtime run. The generator's input is each row's noise: read from the noise column, or drawn from
    /// (seed, the row's <see cref="DataViewRowId"/>), so a row's image does not depend on the batch it is in. The
    /// discriminator's input is each row's image, preprocessed; its realism is sigmoid(logit), computed in the getter.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly GanConfig _c;
        private readonly OnnxBatch _onnx;
        private readonly DataViewRowId[] _ids;
        private readonly ValueGetter<VBuffer<float>>? _noiseGetter;
        private readonly PixelReader? _readImage;
        private VBuffer<float> _noise;
        private int _count;

        public Batch(GanMapper parent, DataViewRow source, int capacity)
        {
            _c = parent.Config;
            _ids = new DataViewRowId[capacity];
            OnnxBatch.InputSlots input;
            if (_c.Graph == GanGraph.Generator)
            {
                if (_c.NoiseColumnName != null)
                {
                    _noiseGetter = source.GetGetter<VBuffer<float>>(source.Schema[_c.NoiseColumnName]);
                }

                input = OnnxBatch.Computed<float>(parent._input, FillNoise, capacity);
            }
            else
            {
                _readImage = VaeGraphs.ImageReader(source, _c.InputColumnName!, new ImagePreprocessor(_c.Preprocessing!));
                input = OnnxBatch.Computed<float>(parent._input, FillImage, capacity);
            }

            _onnx = new OnnxBatch(parent._model, new[] { input }, new[] { parent._output }, OnnxBatch.OneActive, capacity);
        }

        public int Capacity => _ids.Length;

        public int Count => _count;

        public void Clear()
        {
            _count = 0;
            _onnx.Clear();
        }

        public void Add(long position) => Add(position, new DataViewRowId((ulong)position, 0));

        public void Add(long position, DataViewRowId id)
        {
            _ids[_count] = id;
            _onnx.Add(position, _count);
            _count++;
        }

        public void Run() => _onnx.Run();

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            if (_c.Graph == GanGraph.Generator)
            {
                return _onnx.GetGetter(0, slot);
            }

            return outputIndex == 0
                ? (ValueGetter<float>)((ref float dst) => dst = _onnx.OutputRow<float>(0, slot())[0])
                : (ValueGetter<float>)((ref float dst) => dst = 1f / (1f + MathF.Exp(-_onnx.OutputRow<float>(0, slot())[0])));
        }

        public void Dispose() => _onnx.Dispose();

        private void FillNoise(Span<float> destination, long position, int row)
        {
            if (_noiseGetter == null)
            {
                VaeMath.Gaussian(destination, _c.Seed, _ids[row], 0);
                return;
            }

            _noiseGetter(ref _noise);
            if (_noise.Length != destination.Length)
            {
                throw new InvalidOperationException($"Column '{_c.NoiseColumnName}' at row position {position}: expected {destination.Length} noise values, got {_noise.Length}.");
            }

            _noise.CopyTo(destination);
        }

        private void FillImage(Span<float> destination, long position, int row) => _readImage!(destination, position);
    }
}
