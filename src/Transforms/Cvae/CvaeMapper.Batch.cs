using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Cvae;

internal sealed partial class CvaeMapper
{
    /// <summary>
    /// One batch. Each row's label, image and noise are read when it is added; <see cref="Run"/> then encodes the (image, label)
    /// pairs (one per row, or one per row and class for the classifier), decodes z with the same labels, and scores.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly CvaeMapper _parent;
        private readonly CvaeConfig _c;
        private readonly OnnxBatch? _encoder;
        private readonly OnnxBatch _decoder;
        private readonly PixelReader? _readImage;
        private readonly Func<long, long>? _readLabel;
        private readonly ValueGetter<VBuffer<float>>? _noiseGetter;
        private readonly int _pairsPerRow;
        private readonly long[] _positions;
        private readonly long[] _labels;
        private readonly float[] _input;
        private readonly float[] _x;
        private readonly float[] _eps;
        private readonly float[] _z;
        private readonly double[] _scores;
        private readonly float[] _posterior;
        private VBuffer<float> _noise;
        private int _count;

        public Batch(CvaeMapper parent, DataViewRow source, int capacity)
        {
            _parent = parent;
            _c = parent.Config;
            int classes = parent.ClassCount, n = _c.LatentSize, size = parent.ImageSize;
            _pairsPerRow = _c.Mode == CvaeMode.Classify ? classes : 1;
            int pairs = capacity * _pairsPerRow;
            _positions = new long[capacity];
            _labels = new long[capacity];
            _eps = new float[capacity * n];
            _z = new float[pairs * n];
            _scores = new double[pairs * 3];
            _posterior = new float[_c.Mode == CvaeMode.Classify ? capacity * classes : 0];
            if (_c.Mode != CvaeMode.Classify)
            {
                _readLabel = LabelReader(source, _c.LabelColumnName!, classes);
            }

            if (_c.NoiseColumnName != null)
            {
                _noiseGetter = source.GetGetter<VBuffer<float>>(source.Schema[_c.NoiseColumnName]);
            }

            if (parent._encoder != null)
            {
                _readImage = VaeGraphs.ImageReader(source, _c.InputColumnName!, new ImagePreprocessor(_c.Preprocessing!));
                _input = new float[capacity * size];
                _x = new float[capacity * size];
                var image = OnnxBatch.Computed<float>(parent._image!, (dst, _, pair) => _input.AsSpan(pair / _pairsPerRow * size, size).CopyTo(dst), pairs);
                var label = OnnxBatch.Computed<long>(parent._encoderLabel!, FillLabel, pairs);
                _encoder = new OnnxBatch(parent._encoder, new[] { image, label }, new[] { parent._mean!, parent._logVariance! }, OnnxBatch.TwoActive, pairs);
            }
            else
            {
                _input = _x = Array.Empty<float>();
            }

            var z = OnnxBatch.Computed<float>(parent._latent, (dst, _, pair) => _z.AsSpan(pair * n, n).CopyTo(dst), pairs);
            var decoderLabel = OnnxBatch.Computed<long>(parent._decoderLabel, FillLabel, pairs);
            _decoder = new OnnxBatch(parent._decoder, new[] { z, decoderLabel }, new[] { parent._logits }, OnnxBatch.OneActive, pairs);
        }

        public int Capacity => _positions.Length;

        public int Count => _count;

        public void Clear()
        {
            _count = 0;
            _encoder?.Clear();
            _decoder.Clear();
        }

        /// <summary>A row without an id of its own: keyed as the row id (position, 0).</summary>
        public void Add(long position) => Add(position, new DataViewRowId((ulong)position, 0));

        public void Add(long position, DataViewRowId id)
        {
            int row = _count, n = _c.LatentSize, size = _parent.ImageSize;
            _positions[row] = position;
            _labels[row] = _readLabel?.Invoke(position) ?? 0;
            if (_readImage != null)
            {
                ReadImage(row, position, _input.AsSpan(row * size, size));
            }

            var eps = _eps.AsSpan(row * n, n);
            if (_noiseGetter != null)
            {
                _noiseGetter(ref _noise);
                if (_noise.Length != n)
                {
                    throw new InvalidOperationException($"Column '{_c.NoiseColumnName}' at row position {position}: expected {n} noise values, got {_noise.Length}.");
                }

                _noise.CopyTo(eps);
            }
            else if (_c.UseLatentMean || _c.Mode == CvaeMode.Classify)
            {
                eps.Clear();
            }
            else
            {
                VaeMath.Gaussian(eps, _c.Seed, id, 0);
            }

            _count++;
        }

        public void Run()
        {
            int n = _c.LatentSize, pairs = _count * _pairsPerRow;
            if (_encoder != null)
            {
                _encoder.Clear();
                for (int pair = 0; pair < pairs; pair++)
                {
                    _encoder.Add(_positions[pair / _pairsPerRow], pair);
                }

                _encoder.Run();
                for (int pair = 0; pair < pairs; pair++)
                {
                    VaeMath.Reparameterize(_encoder.OutputRow<float>(0, pair), _encoder.OutputRow<float>(1, pair), _eps.AsSpan(pair / _pairsPerRow * n, n), _z.AsSpan(pair * n, n));
                }
            }
            else
            {
                _eps.AsSpan(0, pairs * n).CopyTo(_z); // generation: z ~ N(0, I) is the noise itself
            }

            _decoder.Clear();
            for (int pair = 0; pair < pairs; pair++)
            {
                _decoder.Add(_positions[pair / _pairsPerRow], pair);
            }

            _decoder.Run();
            if (_encoder == null)
            {
                return;
            }

            for (int pair = 0; pair < pairs; pair++)
            {
                int size = _parent.ImageSize;
                double logLikelihood = VaeMath.BernoulliLogLikelihood(_x.AsSpan(pair / _pairsPerRow * size, size), _decoder.OutputRow<float>(0, pair));
                double kl = VaeMath.KlToStandardNormal(_encoder.OutputRow<float>(0, pair), _encoder.OutputRow<float>(1, pair));
                _scores[3 * pair] = logLikelihood;
                _scores[(3 * pair) + 1] = kl;
                _scores[(3 * pair) + 2] = logLikelihood - kl;
            }

            if (_c.Mode == CvaeMode.Classify)
            {
                for (int row = 0; row < _count; row++)
                {
                    Posterior(row);
                }
            }
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            var name = _parent._columns[outputIndex].Name;
            int classes = _parent.ClassCount;
            if (name == _c.GeneratedImageColumnName)
            {
                return Vector(_parent.ImageSize, (s, dst) =>
                {
                    var logits = _decoder.OutputRow<float>(0, s);
                    for (int i = 0; i < dst.Length; i++)
                    {
                        dst[i] = 1f / (1f + MathF.Exp(-logits[i]));
                    }
                });
            }

            if (name == _c.ScoreColumnName)
            {
                return Vector(classes, (s, dst) => _posterior.AsSpan(s * classes, classes).CopyTo(dst));
            }

            if (name == _c.PredictedLabelColumnName)
            {
                return (ValueGetter<uint>)((ref uint dst) => dst = ClassificationOutputs.PredictedKey(_posterior.AsSpan(slot() * classes, classes)));
            }

            int offset = name == _c.ReconstructionLogLikelihoodColumnName ? 0 : name == _c.KlDivergenceColumnName ? 1 : 2;
            return (ValueGetter<float>)((ref float dst) => dst = (float)_scores[(3 * slot()) + offset]);

            ValueGetter<VBuffer<float>> Vector(int length, Action<int, Span<float>> fill) => OutputColumns.Vector(length, slot, fill);
        }

        public void Dispose()
        {
            _encoder?.Dispose();
            _decoder.Dispose();
        }

        /// <summary>Reads the label of the source's current row as a class index, or throws naming the column, row, value and range.</summary>
        private static Func<long, long> LabelReader(DataViewRow source, string columnName, int classes)
        {
            var column = source.Schema[columnName];
            Func<double> read;
            if (column.Type is KeyDataViewType)
            {
                var getter = source.GetGetter<uint>(column);
                read = () =>
                {
                    uint key = 0;
                    getter(ref key);
                    return key == 0 ? double.NaN : key - 1.0; // key 0 is the missing value
                };
            }
            else if (column.Type == NumberDataViewType.Int32)
            {
                var getter = source.GetGetter<int>(column);
                read = () => { int v = 0; getter(ref v); return v; };
            }
            else if (column.Type == NumberDataViewType.Int64)
            {
                var getter = source.GetGetter<long>(column);
                read = () => { long v = 0; getter(ref v); return v; };
            }
            else if (column.Type == NumberDataViewType.UInt32)
            {
                var getter = source.GetGetter<uint>(column);
                read = () => { uint v = 0; getter(ref v); return v; };
            }
            else
            {
                var getter = source.GetGetter<float>(column);
                read = () => { float v = 0; getter(ref v); return v; };
            }

            return position =>
            {
                double value = read();
                if (double.IsNaN(value))
                {
                    throw new InvalidOperationException($"Column '{columnName}' at row position {position}: the label is missing; expected a class index in [0, {classes - 1}].");
                }

                if (value < 0 || value > classes - 1 || value != Math.Floor(value))
                {
                    string shown = column.Type is KeyDataViewType ? $"key {value + 1}" : $"{value}";
                    throw new InvalidOperationException($"Column '{columnName}' at row position {position}: label {shown} is not a class; expected a class index in [0, {classes - 1}]{(column.Type is KeyDataViewType ? $" (keys 1 to {classes})" : "")}.");
                }

                return (long)value;
            };
        }

        private void FillLabel(Span<long> destination, long position, int pair)
            => destination[0] = _c.Mode == CvaeMode.Classify ? pair % _pairsPerRow : _labels[pair];

        /// <summary>log P(c|x) = ELBO(x, c) + log P(c) - logsumexp_k(ELBO(x, k) + log P(k)), then P(c|x) = exp of it.</summary>
        private void Posterior(int row)
        {
            int classes = _parent.ClassCount;
            Span<double> joint = stackalloc double[classes];
            double max = double.NegativeInfinity;
            for (int k = 0; k < classes; k++)
            {
                joint[k] = _scores[(3 * ((row * classes) + k)) + 2] + _c.LogPriors[k];
                max = Math.Max(max, joint[k]);
            }

            double sum = 0;
            foreach (double v in joint)
            {
                sum += Math.Exp(v - max); // the largest term is exp(0): no overflow, no total underflow
            }

            double normalizer = max + Math.Log(sum);
            var posterior = _posterior.AsSpan(row * classes, classes);
            for (int k = 0; k < classes; k++)
            {
                posterior[k] = (float)Math.Exp(joint[k] - normalizer); // NaN when an ELBO is NaN
            }
        }

        private void ReadImage(int row, long position, Span<float> destination)
        {
            _readImage!(destination, position);

            // The likelihood's x is the pixel in [0, 1] (pixel * scale): the encoder's input with its normalization undone.
            var x = _x.AsSpan(row * destination.Length, destination.Length);
            var p = _c.Preprocessing!;
            int plane = destination.Length / p.Channels;
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (destination[i] * p.Std[i / plane]) + p.Mean[i / plane];
            }
        }
    }
}
