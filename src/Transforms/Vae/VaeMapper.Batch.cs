using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

internal sealed partial class VaeMapper
{
    /// <summary>
    /// One batch: the encoder's run (images preprocessed into its input), the latent samples, then one decoder run over
    /// every (row, sample) pair, then the scores per row. The decoder alone reads its latent column straight into the run.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly VaeMapper _parent;
        private readonly VaeConfig _c;
        private readonly bool[] _active;
        private readonly OnnxBatch? _encoder;
        private readonly OnnxBatch? _decoder;
        private readonly ImagePreprocessor? _preprocessor;
        private readonly PixelReader? _readImage;
        private readonly ValueGetter<VBuffer<float>>? _noiseGetter;
        private readonly int _samples;
        private readonly int _latent;
        private readonly long[] _positions;
        private readonly float[] _x;
        private readonly float[] _eps;
        private readonly float[] _z;
        private readonly double[] _scores;
        private readonly double[] _weights;
        private readonly bool _scoring;
        private readonly Batch? _background;
        private readonly double[] _bits;
        private VBuffer<float> _noise;
        private int _count;

        public Batch(VaeMapper parent, DataViewRow source, bool[] activeOutputs, int capacity)
        {
            _parent = parent;
            _c = parent.Config;
            _active = activeOutputs;
            _latent = _c.LatentSize;
            _positions = new long[capacity];
            var kinds = parent._columns.Select(c => c.Kind).ToArray();
            bool Needs(params VaeColumn[] wanted) => kinds.Where((k, i) => activeOutputs[i]).Any(wanted.Contains);
            _scoring = Needs(VaeColumn.ReconstructionLogLikelihood, VaeColumn.KlDivergence, VaeColumn.Elbo, VaeColumn.LogLikelihood, VaeColumn.Score, VaeColumn.PredictedLabel);
            _samples = parent.NoiseSamples;
            if (parent._encoder == null)
            {
                _x = _eps = _z = Array.Empty<float>();
                _scores = _weights = _bits = Array.Empty<double>();
                var latent = OnnxBatch.FromColumn(parent._latent!, source, capacity);
                _decoder = new OnnxBatch(parent._decoder!, new[] { latent }, new[] { parent._logits! }, OnnxBatch.OneActive, capacity);
                return;
            }

            _preprocessor = new ImagePreprocessor(_c.Preprocessing!);
            _readImage = VaeGraphs.ImageReader(source, _c.InputColumnName!, _preprocessor);
            if (_c.NoiseColumnName != null)
            {
                _noiseGetter = source.GetGetter<VBuffer<float>>(source.Schema[_c.NoiseColumnName]);
            }

            _x = _scoring ? new float[capacity * parent.ImageSize] : Array.Empty<float>();
            _eps = new float[capacity * _samples * _latent];
            _z = new float[capacity * _samples * _latent];
            _scores = new double[capacity * 4];
            _weights = new double[_samples];
            _bits = _scoring && _c.AnomalyScore == VaeAnomalyScore.InputComplexity ? new double[capacity] : Array.Empty<double>();
            if (_scoring && parent.Background != null)
            {
                // The likelihood ratio's background VAE scores the same rows with the same noise, batch for batch.
                _background = new Batch(parent.Background, source, OnnxBatch.OneActive, capacity);
            }

            var image = OnnxBatch.Computed<float>(parent._image!, FillImage, capacity);
            _encoder = new OnnxBatch(parent._encoder, new[] { image }, new[] { parent._mean!, parent._logVariance! }, OnnxBatch.TwoActive, capacity);
            if (_scoring)
            {
                var z = OnnxBatch.Computed<float>(parent._latent!, FillLatent, capacity * _samples);
                _decoder = new OnnxBatch(parent._decoder!, new[] { z }, new[] { parent._logits! }, OnnxBatch.OneActive, capacity * _samples);
            }
        }

        public int Capacity => _positions.Length;

        public int Count => _count;

        public void Clear()
        {
            _count = 0;
            _encoder?.Clear();
            _decoder?.Clear();
            _background?.Clear();
        }

        /// <summary>A row without an id of its own: keyed as the row id (position, 0).</summary>
        public void Add(long position) => Add(position, new DataViewRowId((ulong)position, 0));

        public void Add(long position, DataViewRowId id)
        {
            _positions[_count] = position;
            if (_encoder == null)
            {
                _decoder!.Add(position);
            }
            else
            {
                _encoder.Add(position, _count);
                ReadNoise(_count, position, id);
                _background?.Add(position, id);
            }

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
            int n = _latent;
            for (int row = 0; row < _count; row++)
            {
                var mean = _encoder.OutputRow<float>(0, row);
                var logVariance = _encoder.OutputRow<float>(1, row);
                for (int s = 0; s < _samples; s++)
                {
                    int offset = ((row * _samples) + s) * n;
                    VaeMath.Reparameterize(mean, logVariance, _eps.AsSpan(offset, n), _z.AsSpan(offset, n));
                }
            }

            if (!_scoring)
            {
                return;
            }

            _decoder!.Clear();
            for (int i = 0; i < _count * _samples; i++)
            {
                _decoder.Add(_positions[i / _samples], i); // the (row, sample) pair i fills its latent
            }

            _decoder.Run();
            for (int row = 0; row < _count; row++)
            {
                Score(row);
            }

            _background?.Run();
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            int n = _latent;
            switch (_parent._columns[outputIndex].Kind)
            {
                case VaeColumn.Mean:
                    return Vector(n, (s, dst) => _encoder!.OutputRow<float>(0, s).CopyTo(dst));
                case VaeColumn.LogVariance:
                    return Vector(n, (s, dst) => _encoder!.OutputRow<float>(1, s).CopyTo(dst));
                case VaeColumn.Latent:
                    return Vector(n * _c.SampleCount, (s, dst) => _z.AsSpan(s * _samples * n, _c.SampleCount * n).CopyTo(dst));
                case VaeColumn.Reconstruction:
                    return Vector(_parent.ImageSize, (s, dst) =>
                    {
                        var logits = _decoder!.OutputRow<float>(0, s);
                        for (int i = 0; i < dst.Length; i++)
                        {
                            dst[i] = 1f / (1f + MathF.Exp(-logits[i]));
                        }
                    });
                case VaeColumn.ReconstructionLogLikelihood:
                    return Scalar(s => (float)_scores[4 * s]);
                case VaeColumn.KlDivergence:
                    return Scalar(s => (float)_scores[(4 * s) + 1]);
                case VaeColumn.Elbo:
                    return Scalar(s => (float)_scores[(4 * s) + 2]);
                case VaeColumn.LogLikelihood:
                    return Scalar(s => (float)_scores[(4 * s) + 3]);
                case VaeColumn.Score:
                    return Scalar(AnomalyScore);
                default:
                    // Not at or below the threshold: NaN scores count as anomalies.
                    return (ValueGetter<bool>)((ref bool dst) => dst = !(AnomalyScore(slot()) <= _c.Threshold));
            }

            ValueGetter<float> Scalar(Func<int, float> value) => (ref float dst) => dst = value(slot());

            ValueGetter<VBuffer<float>> Vector(int length, Action<int, Span<float>> fill) => OutputColumns.Vector(length, slot, fill);
        }

        public void Dispose()
        {
            _encoder?.Dispose();
            _decoder?.Dispose();
            _background?.Dispose();
        }

        /// <summary>-ELBO, or -log p(x) when importance samples are drawn, in nats.</summary>
        private double NegativeLogLikelihood(int slot) => -(_c.ImportanceSamples > 0 ? _scores[(4 * slot) + 3] : _scores[(4 * slot) + 2]);

        /// <summary>The detector's score, higher is more anomalous: the negative log-likelihood, its complexity-corrected bits, or its ratio to the background's.</summary>
        private float AnomalyScore(int slot) => _c.AnomalyScore switch
        {
            VaeAnomalyScore.InputComplexity => (float)((NegativeLogLikelihood(slot) / Math.Log(2)) - _bits[slot]),
            VaeAnomalyScore.LikelihoodRatio => (float)(NegativeLogLikelihood(slot) - _background!.NegativeLogLikelihood(slot)),
            _ => (float)NegativeLogLikelihood(slot),
        };

        private void Score(int row)
        {
            int n = _latent, size = _parent.ImageSize;
            var mean = _encoder!.OutputRow<float>(0, row);
            var logVariance = _encoder.OutputRow<float>(1, row);
            var x = _x.AsSpan(row * size, size);
            double kl = VaeMath.KlToStandardNormal(mean, logVariance);
            for (int s = 0; s < _samples; s++)
            {
                int index = (row * _samples) + s;
                var z = _z.AsSpan(index * n, n);
                double logLikelihood = VaeMath.BernoulliLogLikelihood(x, _decoder!.OutputRow<float>(0, index));
                // log p(x|z) + log p(z) - log q(z|x): the importance weight of sample s.
                _weights[s] = logLikelihood + VaeMath.GaussianLogDensity(z, default, default) - VaeMath.GaussianLogDensity(z, mean, logVariance);
                if (s == 0)
                {
                    _scores[4 * row] = logLikelihood;
                    _scores[(4 * row) + 1] = kl;
                    _scores[(4 * row) + 2] = logLikelihood - kl;
                }
            }

            _scores[(4 * row) + 3] = _c.ImportanceSamples > 0 ? VaeMath.LogMeanExp(_weights) : double.NaN;
            if (_bits.Length > 0)
            {
                var p = _c.Preprocessing!;
                _bits[row] = InputComplexity.PngBits(x, p.Channels, p.Height, p.Width);
            }
        }

        private void ReadNoise(int row, long position, DataViewRowId id)
        {
            int n = _latent;
            var eps = _eps.AsSpan(row * _samples * n, _samples * n);
            if (_noiseGetter != null)
            {
                _noiseGetter(ref _noise);
                if (_noise.Length != eps.Length)
                {
                    throw new InvalidOperationException($"Column '{_c.NoiseColumnName}' at row position {position}: expected {eps.Length} noise values, got {_noise.Length}.");
                }

                _noise.CopyTo(eps);
                return;
            }

            if (_c.UseLatentMean)
            {
                eps.Clear();
                return;
            }

            for (int s = 0; s < _samples; s++)
            {
                if (_c.NoiseKeyedByPosition)
                {
                    VaeMath.Gaussian(eps.Slice(s * n, n), _c.Seed, position, s); // a v1 model zip
                }
                else
                {
                    VaeMath.Gaussian(eps.Slice(s * n, n), _c.Seed, id, s);
                }
            }
        }

        private void FillImage(Span<float> destination, long position, int row)
        {
            _readImage!(destination, position);

            if (_scoring)
            {
                // The likelihood's x is the pixel in [0, 1] (pixel * scale): the encoder's input with its normalization undone.
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

        private void FillLatent(Span<float> destination, long position, int pair) => _z.AsSpan(pair * _latent, _latent).CopyTo(destination);
    }
}
