using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.VqVae;

internal sealed partial class VqVaeMapper
{
    /// <summary>
    /// One batch: the encoder's run (images preprocessed into its input), each latent vector quantized to its nearest code in C#,
    /// then, when a reconstruction is wanted, one decoder run over the code vectors. The decoder alone reads its codes column.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly VqVaeMapper _parent;
        private readonly VqVaeConfig _c;
        private readonly OnnxBatch? _encoder;
        private readonly OnnxBatch? _decoder;
        private readonly ImagePreprocessor? _preprocessor;
        private readonly PixelReader? _readImage;
        private readonly ValueGetter<VBuffer<uint>>? _codesGetter;
        private readonly long[] _positions;
        private readonly int[] _indices;
        private readonly float[] _x;
        private readonly float[] _errors;
        private VBuffer<uint> _codes;
        private int _count;

        public Batch(VqVaeMapper parent, DataViewRow source, bool[] activeOutputs, int capacity)
        {
            _parent = parent;
            _c = parent.Config;
            _positions = new long[capacity];
            _indices = new int[capacity * _c.Positions];
            if (parent._encoder == null)
            {
                _x = _errors = Array.Empty<float>();
                _codesGetter = source.GetGetter<VBuffer<uint>>(source.Schema[_c.CodesInputColumnName!]);
                var input = OnnxBatch.Computed<float>(parent._codes!, FillFromColumn, capacity);
                _decoder = new OnnxBatch(parent._decoder!, new[] { input }, new[] { parent._reconstruction! }, OnnxBatch.OneActive, capacity);
                return;
            }

            bool decode = parent._decoder != null && parent._columns.Where((c, i) => activeOutputs[i])
                .Any(c => c.Kind is VqColumn.Reconstruction or VqColumn.ReconstructionError);
            _preprocessor = new ImagePreprocessor(_c.Preprocessing!);
            _readImage = VaeGraphs.ImageReader(source, _c.InputColumnName!, _preprocessor);
            _x = decode ? new float[capacity * parent.ImageSize] : Array.Empty<float>();
            _errors = new float[capacity];
            var image = OnnxBatch.Computed<float>(parent._image!, FillImage, capacity);
            _encoder = new OnnxBatch(parent._encoder, new[] { image }, new[] { parent._latents! }, OnnxBatch.OneActive, capacity);
            if (decode)
            {
                var codes = OnnxBatch.Computed<float>(parent._codes!, FillFromIndices, capacity);
                _decoder = new OnnxBatch(parent._decoder!, new[] { codes }, new[] { parent._reconstruction! }, OnnxBatch.OneActive, capacity);
            }
        }

        public int Capacity => _positions.Length;

        public int Count => _count;

        public void Clear()
        {
            _count = 0;
            _encoder?.Clear();
            _decoder?.Clear();
        }

        public void Add(long position)
        {
            _positions[_count] = position;
            (_encoder ?? _decoder)!.Add(position, _count);
            _count++;
        }

        public void Run()
        {
            if (_encoder == null)
            {
                _decoder!.Run();
                return;
            }

            _encoder.Run();
            int positions = _c.Positions;
            for (int row = 0; row < _count; row++)
            {
                VqMath.Quantize(_encoder.OutputRow<float>(0, row), _c.Codebook, _c.CodeSize, _indices.AsSpan(row * positions, positions));
            }

            if (_decoder == null)
            {
                return;
            }

            _decoder.Clear();
            for (int row = 0; row < _count; row++)
            {
                _decoder.Add(_positions[row], row);
            }

            _decoder.Run();
            int size = _parent.ImageSize;
            for (int row = 0; row < _count; row++)
            {
                _errors[row] = VqMath.MeanSquaredError(_x.AsSpan(row * size, size), _decoder.OutputRow<float>(0, row));
            }
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            int positions = _c.Positions, dim = _c.CodeSize;
            switch (_parent._columns[outputIndex].Kind)
            {
                case VqColumn.Codes:
                    return (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> dst) =>
                    {
                        var editor = VBufferEditor.Create(ref dst, positions);
                        var indices = _indices.AsSpan(slot() * positions, positions);
                        for (int p = 0; p < positions; p++)
                        {
                            editor.Values[p] = (uint)indices[p] + 1; // keys count from 1; 0 is the missing key
                        }

                        dst = editor.Commit();
                    });
                case VqColumn.CodeVectors:
                    return Vector(positions * dim, (s, d) => VqMath.CodeVectors(_indices.AsSpan(s * positions, positions), _c.Codebook, dim, d));
                case VqColumn.Latents:
                    return Vector(positions * dim, (s, d) => _encoder!.OutputRow<float>(0, s).CopyTo(d));
                case VqColumn.Reconstruction:
                    return Vector(_parent.ImageSize, (s, d) => _decoder!.OutputRow<float>(0, s).CopyTo(d));
                default:
                    return (ValueGetter<float>)((ref float dst) => dst = _errors[slot()]);
            }

            ValueGetter<VBuffer<float>> Vector(int length, Action<int, Span<float>> fill) => OutputColumns.Vector(length, slot, fill);
        }

        public void Dispose()
        {
            _encoder?.Dispose();
            _decoder?.Dispose();
        }

        private void FillFromIndices(Span<float> destination, long position, int row)
            => VqMath.CodeVectors(_indices.AsSpan(row * _c.Positions, _c.Positions), _c.Codebook, _c.CodeSize, destination);

        /// <summary>The decoder alone: the row's key vector of codes, checked (length, missing keys, range), as code vectors.</summary>
        private void FillFromColumn(Span<float> destination, long position, int row)
        {
            _codesGetter!(ref _codes);
            string column = _c.CodesInputColumnName!;
            if (_codes.Length != _c.Positions)
            {
                throw new InvalidOperationException($"Column '{column}' at row position {position}: expected {_c.Positions} codes (a {_c.GridHeight} x {_c.GridWidth} grid), got {_codes.Length}.");
            }

            var indices = _indices.AsSpan(row * _c.Positions, _c.Positions);
            var values = _codes.DenseValues().GetEnumerator();
            for (int p = 0; p < indices.Length && values.MoveNext(); p++)
            {
                uint key = values.Current;
                if (key == 0 || key > _c.CodebookSize)
                {
                    string what = key == 0 ? "the missing key (0)" : $"key {key}, out of range";
                    throw new InvalidOperationException($"Column '{column}' at row position {position}, grid position {p}: expected a key in 1..{_c.CodebookSize} (code index 0..{_c.CodebookSize - 1}), got {what}.");
                }

                indices[p] = (int)key - 1;
            }

            VqMath.CodeVectors(indices, _c.Codebook, _c.CodeSize, destination);
        }

        private void FillImage(Span<float> destination, long position, int row)
        {
            _readImage!(destination, position);

            if (_x.Length > 0)
            {
                // The reconstruction error compares pixels in [0, 1] (pixel * scale): the encoder's input with its normalization undone.
                var x = _x.AsSpan(row * destination.Length, destination.Length);
                var p = _c.Preprocessing!;
                int plane = destination.Length / p.Channels;
                for (int i = 0; i < x.Length; i++)
                {
                    int channel = i / plane;
                    x[i] = (destination[i] * p.Std[channel]) + p.Mean[channel];
                }
            }
        }
    }
}
