using System;
using System.Numerics.Tensors;
using System.Threading.Tasks;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Vq;

/// <summary>
/// The vector quantizer's training state: K code vectors of D values, moved by exponential moving averages of the counts and sums of
/// the vectors assigned to them (van den Oord et al. 2017, appendix; the notes' VQ-VAE bottleneck without the encoder), and dead codes
/// re-initialized from vectors of the current batch.
/// </summary>
/// <remarks>
/// Per mini-batch: every vector goes to its nearest code (squared Euclidean distance, ties to the lower index); with n_k vectors of sum
/// s_k on code k, N_k &lt;- d N_k + (1 - d) n_k and m_k &lt;- d m_k + (1 - d) s_k, and the code is m_k / N_k (N_k Laplace-smoothed).
/// A code whose N_k falls below the threshold (a fraction of the uniform count B / K) is dead: it is moved onto a vector of the batch
/// drawn with probability proportional to its squared quantization error (as k-means++ seeds, so a revived code goes where the
/// codebook serves the data worst, not onto a cluster that already has a code), with N_k = B / K. Assignment runs in chunks of fixed size on up to <c>threads</c> threads and the chunks' sums are added in
/// chunk order, so the result depends on the seed only (and not even on the thread count).
/// </remarks>
internal sealed class EmaCodebook
{
    private const int ChunkRows = 256;
    private const double SmoothingEpsilon = 1e-5;

    private readonly int _k;
    private readonly int _d;
    private readonly float[] _codes;      // (K, D)
    private readonly float[] _norms;      // (K) ||e_k||^2
    private readonly double[] _emaCount;  // (K)
    private readonly double[] _emaSum;    // (K, D)
    private readonly ParallelOptions _parallel;

    public EmaCodebook(int codebookSize, int dimension, int threads)
    {
        _k = codebookSize;
        _d = dimension;
        _codes = new float[_k * _d];
        _norms = new float[_k];
        _emaCount = new double[_k];
        _emaSum = new double[_k * _d];
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    public ReadOnlySpan<float> Codes => _codes;

    /// <summary>Codes re-initialized so far.</summary>
    public int Reinitialized { get; private set; }

    /// <summary>"Random initial centroids": K distinct training vectors (all of them, repeated, when there are fewer than K).</summary>
    public void Initialize(ReadOnlySpan<float> data, int rows, ref SplitMix64 random, double initialCount)
    {
        var order = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            order[i] = i;
        }

        random.Shuffle(order);
        for (int k = 0; k < _k; k++)
        {
            SetCode(k, data.Slice(order[k % rows] * _d, _d), initialCount);
        }
    }

    /// <summary>One EMA step on the batch <paramref name="rows"/> of <paramref name="data"/>; returns the batch's summed squared error.</summary>
    public double Step(float[] data, int[] rows, int[] assignment, float[] distances, double decay, double deadFraction, ref SplitMix64 random)
    {
        int b = rows.Length;
        var (counts, sums, error) = Assign(data, rows, assignment, distances);
        for (int k = 0; k < _k; k++)
        {
            _emaCount[k] = decay * _emaCount[k] + (1 - decay) * counts[k];
            for (int j = 0; j < _d; j++)
            {
                _emaSum[k * _d + j] = decay * _emaSum[k * _d + j] + (1 - decay) * sums[k * _d + j];
            }
        }

        double total = 0;
        for (int k = 0; k < _k; k++)
        {
            total += _emaCount[k];
        }

        for (int k = 0; k < _k; k++)
        {
            double smoothed = (_emaCount[k] + SmoothingEpsilon) / (total + _k * SmoothingEpsilon) * total;
            for (int j = 0; j < _d; j++)
            {
                _codes[k * _d + j] = (float)(_emaSum[k * _d + j] / smoothed);
            }

            _norms[k] = TensorPrimitives.Dot(_codes.AsSpan(k * _d, _d), _codes.AsSpan(k * _d, _d));
        }

        double uniform = (double)b / _k;
        for (int k = 0; k < _k; k++)
        {
            if (_emaCount[k] < deadFraction * uniform)
            {
                int pick = DrawByError(distances, ref random);
                distances[pick] = 0; // not twice in one step
                SetCode(k, data.AsSpan(rows[pick] * _d, _d), uniform);
                Reinitialized++;
            }
        }

        return error;
    }

    /// <summary>
    /// One Lloyd step over all <paramref name="rows"/> vectors: each code moves to the mean of its vectors (the EMA with decay 0 over the
    /// whole set); a code with none is moved onto a vector drawn by squared error, when <paramref name="revive"/>. Returns the squared
    /// error before the step.
    /// </summary>
    public double Refine(float[] data, int rows, int[] assignment, float[] distances, bool revive, ref SplitMix64 random)
    {
        var (counts, sums, error) = Assign(data, null, assignment, distances);
        for (int k = 0; k < _k; k++)
        {
            if (counts[k] > 0)
            {
                for (int j = 0; j < _d; j++)
                {
                    _codes[k * _d + j] = (float)(sums[k * _d + j] / counts[k]);
                }

                _norms[k] = TensorPrimitives.Dot(_codes.AsSpan(k * _d, _d), _codes.AsSpan(k * _d, _d));
            }
            else if (revive && rows > 0)
            {
                int pick = DrawByError(distances, ref random);
                distances[pick] = 0;
                SetCode(k, data.AsSpan(pick * _d, _d), 1);
                Reinitialized++;
            }
        }

        return error;
    }

    /// <summary>
    /// Assigns every row to its nearest code: per-code counts and sums (double), and the summed squared error. Chunks of
    /// <see cref="ChunkRows"/> rows run in parallel and are reduced in chunk order.
    /// </summary>
    public (long[] Counts, double[] Sums, double Error) Assign(float[] data, int[]? rows, int[] assignment, float[] distances)
    {
        int n = assignment.Length;
        int chunks = (n + ChunkRows - 1) / ChunkRows;
        var partCounts = new long[chunks][];
        var partSums = new double[chunks][];
        var partError = new double[chunks];
        Parallel.For(0, chunks, _parallel, c =>
        {
            var counts = new long[_k];
            var sums = new double[_k * _d];
            double error = 0;
            int end = Math.Min(n, (c + 1) * ChunkRows);
            for (int i = c * ChunkRows; i < end; i++)
            {
                var x = data.AsSpan((rows == null ? i : rows[i]) * _d, _d);
                int best = Nearest(x, out float distance);
                assignment[i] = best;
                distances[i] = distance;
                counts[best]++;
                error += distance;
                for (int j = 0; j < _d; j++)
                {
                    sums[best * _d + j] += x[j];
                }
            }

            partCounts[c] = counts;
            partSums[c] = sums;
            partError[c] = error;
        });

        var totalCounts = new long[_k];
        var totalSums = new double[_k * _d];
        double totalError = 0;
        for (int c = 0; c < chunks; c++)
        {
            totalError += partError[c];
            for (int k = 0; k < _k; k++)
            {
                totalCounts[k] += partCounts[c][k];
            }

            for (int i = 0; i < totalSums.Length; i++)
            {
                totalSums[i] += partSums[c][i];
            }
        }

        return (totalCounts, totalSums, totalError);
    }

    /// <summary>The nearest code to <paramref name="x"/> and its squared distance (clamped at 0).</summary>
    public int Nearest(ReadOnlySpan<float> x, out float distance) => Nearest(_codes, _norms, _d, x, out distance);

    /// <summary>The nearest of the codes (K x D, with their squared norms) to <paramref name="x"/>; ties go to the lower index.</summary>
    internal static int Nearest(ReadOnlySpan<float> codes, ReadOnlySpan<float> norms, int d, ReadOnlySpan<float> x, out float distance)
    {
        float xx = TensorPrimitives.Dot(x, x);
        int best = 0;
        float bestValue = float.PositiveInfinity;
        for (int k = 0; k < norms.Length; k++)
        {
            float value = norms[k] - 2 * TensorPrimitives.Dot(codes.Slice(k * d, d), x);
            if (value < bestValue)
            {
                bestValue = value;
                best = k;
            }
        }

        distance = Math.Max(0, bestValue + xx);
        return best;
    }

    // A batch position drawn with probability proportional to its squared error (uniformly when every error is 0).
    private static int DrawByError(float[] distances, ref SplitMix64 random)
    {
        double total = 0;
        foreach (float v in distances)
        {
            total += v;
        }

        if (total <= 0)
        {
            return random.NextInt(distances.Length);
        }

        double target = random.NextDouble() * total;
        double running = 0;
        for (int i = 0; i < distances.Length; i++)
        {
            running += distances[i];
            if (running > target)
            {
                return i;
            }
        }

        return distances.Length - 1;
    }

    private void SetCode(int k, ReadOnlySpan<float> vector, double count)
    {
        vector.CopyTo(_codes.AsSpan(k * _d, _d));
        _norms[k] = TensorPrimitives.Dot(vector, vector);
        _emaCount[k] = count;
        for (int j = 0; j < _d; j++)
        {
            _emaSum[k * _d + j] = vector[j] * count;
        }
    }
}
