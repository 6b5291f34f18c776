using System;
using System.Diagnostics;
using System.Threading.Tasks;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.Mdn;

/// <summary>Rows in memory: features (N, F) and standardized labels (N, D), row-major.</summary>
internal sealed record MdnDataSet(float[] Features, float[] Labels, int Rows);

/// <summary>The schedule of one training run.</summary>
internal sealed record MdnSchedule(int Epochs, int BatchSize, double LearningRate, double L2Weight, int Patience, int Threads, ulong ShuffleSeed);

/// <summary>What one epoch did: mean training NLL (with the prior's share), validation NLL when there is a validation set.</summary>
internal readonly record struct MdnEpoch(int Epoch, double TrainingLoss, double? ValidationLoss, double Seconds);

/// <summary>
/// Mini-batch Adam on an <see cref="MdnNetwork{T}"/>. Each batch is split into at most <see cref="MdnSchedule.Threads"/> contiguous shards run
/// in parallel, whose gradients are summed in shard order: the result depends on the seed and the thread count only.
/// </summary>
internal sealed class MdnOptimizer
{
    private const int MinRowsPerShard = 32;
    private readonly MdnNetwork<float> _network;
    private readonly MdnSchedule _schedule;

    public MdnOptimizer(MdnNetwork<float> network, MdnSchedule schedule)
    {
        _network = network;
        _schedule = schedule;
    }

    /// <summary>
    /// Trains <paramref name="parameters"/> in place. With a validation set, keeps the parameters of the epoch with the lowest validation NLL and
    /// stops after <see cref="MdnSchedule.Patience"/> epochs without improvement. Losses are reported in label units by adding
    /// <paramref name="lossOffset"/> (the log of the label scales).
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite; <paramref name="parameters"/> are then left as they were before training.</exception>
    public int Train(float[] parameters, MdnDataSet train, MdnDataSet? validation, double lossOffset, Action<MdnEpoch>? onEpoch)
    {
        int n = train.Rows;
        var initial = (float[])parameters.Clone();
        var best = (float[])parameters.Clone();
        double bestLoss = double.PositiveInfinity;
        int sinceBest = 0;
        int batchSize = Math.Min(_schedule.BatchSize, n);
        var adam = new Adam<float>(parameters.Length);
        var gradient = new float[parameters.Length];
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var random = new SplitMix64(_schedule.ShuffleSeed);
        using var shards = new ShardSet(_network, _schedule.Threads, batchSize);
        double priorCoefficient = _schedule.L2Weight / n;
        int epochsRun = 0;
        for (int epoch = 1; epoch <= _schedule.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            random.Shuffle(order);
            double sum = 0;
            for (int start = 0; start < n; start += batchSize)
            {
                int rows = Math.Min(batchSize, n - start);
                Array.Clear(gradient);
                double batchLoss = shards.Run(parameters, train, order.AsSpan(start, rows), gradient, backward: true);
                _network.AddPrior(parameters, gradient, priorCoefficient);
                if (!double.IsFinite(batchLoss))
                {
                    initial.CopyTo(parameters, 0);
                    ThrowHelper.InvalidOperation($"MDN training diverged at epoch {epoch}, rows {start} to {start + rows - 1} of the shuffled training set: " +
                        $"the loss is {batchLoss}. Lower LearningRate, raise MinimumSigma or normalize the features; no model was produced.");
                }

                sum += batchLoss;
                adam.Update(parameters, gradient, _schedule.LearningRate);
            }

            double trainingLoss = sum / n + lossOffset + _network.AddPrior(parameters, Span<float>.Empty, priorCoefficient);
            double? validationLoss = null;
            epochsRun = epoch;
            if (validation != null)
            {
                double loss = Evaluate(parameters, validation, shards) + lossOffset;
                validationLoss = loss;
                if (loss < bestLoss - 1e-6)
                {
                    bestLoss = loss;
                    sinceBest = 0;
                    parameters.CopyTo(best, 0);
                }
                else
                {
                    sinceBest++;
                }
            }

            onEpoch?.Invoke(new MdnEpoch(epoch, trainingLoss, validationLoss, watch.Elapsed.TotalSeconds));
            if (validation != null && _schedule.Patience > 0 && sinceBest >= _schedule.Patience)
            {
                break;
            }
        }

        if (validation != null && double.IsFinite(bestLoss))
        {
            best.CopyTo(parameters, 0);
        }

        foreach (float p in parameters)
        {
            if (!float.IsFinite(p))
            {
                initial.CopyTo(parameters, 0);
                ThrowHelper.InvalidOperation("MDN training produced non-finite weights; no model was produced. Lower LearningRate or raise MinimumSigma.");
            }
        }

        return epochsRun;
    }

    /// <summary>Mean -log p(y | x) over <paramref name="data"/>, in standardized label units.</summary>
    public double Evaluate(float[] parameters, MdnDataSet data)
    {
        using var shards = new ShardSet(_network, _schedule.Threads, Math.Min(_schedule.BatchSize, Math.Max(1, data.Rows)));
        return Evaluate(parameters, data, shards);
    }

    private static double Evaluate(float[] parameters, MdnDataSet data, ShardSet shards)
    {
        double sum = 0;
        int batch = shards.BatchSize;
        var indices = new int[Math.Min(batch, data.Rows)];
        for (int start = 0; start < data.Rows; start += batch)
        {
            int rows = Math.Min(batch, data.Rows - start);
            for (int i = 0; i < rows; i++)
            {
                indices[i] = start + i;
            }

            sum += shards.Run(parameters, data, indices.AsSpan(0, rows), Span<float>.Empty, backward: false);
        }

        return sum / data.Rows;
    }

    /// <summary>Per-thread buffers: gathered rows, network workspace, output gradient and parameter gradient.</summary>
    private sealed class ShardSet : IDisposable
    {
        private readonly MdnNetwork<float> _network;
        private readonly Shard[] _shards;
        private readonly ParallelOptions _parallel;

        public ShardSet(MdnNetwork<float> network, int threads, int batchSize)
        {
            _network = network;
            BatchSize = batchSize;
            int count = Math.Max(1, Math.Min(threads, batchSize / MinRowsPerShard));
            int rowsPerShard = (batchSize + count - 1) / count;
            _shards = new Shard[count];
            for (int s = 0; s < count; s++)
            {
                _shards[s] = new Shard(network, rowsPerShard);
            }

            _parallel = new ParallelOptions { MaxDegreeOfParallelism = count };
        }

        public int BatchSize { get; }

        public double Run(float[] parameters, MdnDataSet data, ReadOnlySpan<int> rows, Span<float> gradient, bool backward)
        {
            int count = Math.Max(1, Math.Min(_shards.Length, rows.Length / MinRowsPerShard));
            int perShard = (rows.Length + count - 1) / count;
            for (int s = 0; s < count; s++)
            {
                int from = s * perShard;
                int take = Math.Max(0, Math.Min(perShard, rows.Length - from));
                _shards[s].Gather(data, rows.Slice(from, take), _network.FeatureCount, _network.Head.LabelSize);
            }

            float scale = 1f / rows.Length;
            if (count == 1)
            {
                _shards[0].Compute(_network, parameters, scale, backward);
            }
            else
            {
                Parallel.For(0, count, _parallel, s => _shards[s].Compute(_network, parameters, scale, backward));
            }

            double loss = 0;
            for (int s = 0; s < count; s++)
            {
                loss += _shards[s].Loss;
                if (backward)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(gradient, _shards[s].Gradient, gradient);
                }
            }

            return loss;
        }

        public void Dispose()
        {
            foreach (var shard in _shards)
            {
                shard.Workspace.Dispose();
            }
        }
    }

    private sealed class Shard
    {
        private readonly float[] _features;
        private readonly float[] _labels;
        private readonly float[] _outputGradient;
        private int _rows;

        public Shard(MdnNetwork<float> network, int maxRows)
        {
            _features = new float[maxRows * network.FeatureCount];
            _labels = new float[maxRows * network.Head.LabelSize];
            _outputGradient = new float[maxRows * network.Head.OutputSize];
            Gradient = new float[network.ParameterCount];
            Workspace = network.Mlp.CreateWorkspace(maxRows);
        }

        public Mlp<float>.Workspace Workspace { get; }

        public float[] Gradient { get; }

        public double Loss { get; private set; }

        public void Gather(MdnDataSet data, ReadOnlySpan<int> rows, int featureCount, int labelSize)
        {
            _rows = rows.Length;
            for (int i = 0; i < rows.Length; i++)
            {
                data.Features.AsSpan(rows[i] * featureCount, featureCount).CopyTo(_features.AsSpan(i * featureCount));
                data.Labels.AsSpan(rows[i] * labelSize, labelSize).CopyTo(_labels.AsSpan(i * labelSize));
            }
        }

        public void Compute(MdnNetwork<float> network, float[] parameters, float scale, bool backward)
        {
            if (_rows == 0)
            {
                Loss = 0;
                Array.Clear(Gradient);
                return;
            }

            if (backward)
            {
                Array.Clear(Gradient);
            }

            Loss = network.LossAndGradient(parameters, _features, _labels, _rows, scale,
                backward ? Gradient : Span<float>.Empty, Workspace, _outputGradient);
        }
    }
}
