using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.InfoNce;

/// <summary>Pairs in memory: A (N, dA), B (N, dB), optional group ids (N).</summary>
internal sealed record InfoNceDataSet(float[] A, float[] B, int[]? Groups, int Rows);

/// <summary>The schedule of one InfoNCE training run.</summary>
internal sealed record InfoNceSchedule(int Epochs, int BatchSize, double LearningRate, double MaximumLogScale, bool LearnScale, int Patience, bool Parallel, ulong ShuffleSeed);

/// <summary>What one epoch did.</summary>
internal readonly record struct InfoNceEpoch(int Epoch, double Loss, double LogitScale, double? ValidationRecallAt1, double Seconds);

/// <summary>Mini-batch Adam on an <see cref="InfoNceNetwork{T}"/>; the log logit scale is clamped after every step.</summary>
internal sealed class InfoNceOptimizer
{
    private static float s_touched;

    private readonly InfoNceNetwork<float> _network;
    private readonly InfoNceSchedule _schedule;

    public InfoNceOptimizer(InfoNceNetwork<float> network, InfoNceSchedule schedule)
    {
        _network = network;
        _schedule = schedule;
    }

    /// <summary>Batches of row indices: random chunks, or whole groups packed together (chunks of one row are dropped).</summary>
    public static List<int[]> Batches(InfoNceDataSet data, int batchSize, ref SplitMix64 random)
    {
        var batches = new List<int[]>();
        if (data.Groups == null)
        {
            var order = Enumerable.Range(0, data.Rows).ToArray();
            random.Shuffle(order);
            for (int start = 0; start < order.Length; start += batchSize)
            {
                int count = Math.Min(batchSize, order.Length - start);
                if (count >= 2)
                {
                    batches.Add(order.AsSpan(start, count).ToArray());
                }
            }

            return batches;
        }

        var groups = data.Groups.Select((g, i) => (g, i)).GroupBy(p => p.g).Select(grp => grp.Select(p => p.i).ToArray()).ToArray();
        var groupOrder = Enumerable.Range(0, groups.Length).ToArray();
        random.Shuffle(groupOrder);
        var current = new List<int>();
        foreach (int g in groupOrder)
        {
            var rows = groups[g];
            for (int start = 0; start < rows.Length; start += batchSize)
            {
                int count = Math.Min(batchSize, rows.Length - start);
                if (count < 2)
                {
                    continue;
                }

                if (current.Count + count > batchSize)
                {
                    batches.Add(current.ToArray());
                    current.Clear();
                }

                current.AddRange(rows.AsSpan(start, count).ToArray());
            }
        }

        if (current.Count >= 2)
        {
            batches.Add(current.ToArray());
        }

        return batches;
    }

    public int Train(float[] parameters, InfoNceDataSet train, InfoNceDataSet? validation, Action<InfoNceEpoch>? onEpoch)
    {
        var adam = new Adam<float>(parameters.Length);
        var gradient = new float[parameters.Length];
        var random = new SplitMix64(_schedule.ShuffleSeed);
        int sizeA = _network.HeadA.InputSize;
        int sizeB = _network.HeadB.InputSize;
        using var buffers = _network.CreateBuffers(_schedule.BatchSize);
        var a = new float[_schedule.BatchSize * sizeA];
        var b = new float[_schedule.BatchSize * sizeB];
        var groups = new int[_schedule.BatchSize];
        var best = (float[])parameters.Clone();
        double bestRecall = double.NegativeInfinity;
        int sinceBest = 0;
        int epochsRun = 0;
        float maxLogScale = (float)_schedule.MaximumLogScale;
        for (int epoch = 1; epoch <= _schedule.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            var batches = Batches(train, _schedule.BatchSize, ref random);
            if (batches.Count == 0)
            {
                ThrowHelper.InvalidOperation("InfoNCE has no batch of two or more pairs to train on: every group has a single row, or the training set has one row.");
            }

            double sum = 0;
            foreach (var batch in batches)
            {
                Touch(train, batch, sizeA, sizeB);
                for (int i = 0; i < batch.Length; i++)
                {
                    train.A.AsSpan(batch[i] * sizeA, sizeA).CopyTo(a.AsSpan(i * sizeA));
                    train.B.AsSpan(batch[i] * sizeB, sizeB).CopyTo(b.AsSpan(i * sizeB));
                    groups[i] = train.Groups?[batch[i]] ?? 0;
                }

                Array.Clear(gradient);
                double loss = _network.LossAndGradient(parameters, a, b, train.Groups == null ? ReadOnlySpan<int>.Empty : groups.AsSpan(0, batch.Length),
                    batch.Length, gradient, buffers, _schedule.Parallel);
                if (!double.IsFinite(loss))
                {
                    ThrowHelper.InvalidOperation($"InfoNCE training diverged at epoch {epoch}: the loss is {loss}. Lower LearningRate; no model was produced.");
                }

                if (!_schedule.LearnScale)
                {
                    gradient[_network.LogScaleIndex] = 0;
                }

                sum += loss;
                adam.Update(parameters, gradient, _schedule.LearningRate);
                ref float logScale = ref parameters[_network.LogScaleIndex];
                logScale = Math.Clamp(logScale, 0f, maxLogScale); // the scale stays in [1, max], as CLIP clamps it
            }

            epochsRun = epoch;
            double? recall = null;
            if (validation != null)
            {
                recall = RecallAt1(parameters, validation);
                if (recall > bestRecall + 1e-9)
                {
                    bestRecall = recall.Value;
                    sinceBest = 0;
                    parameters.CopyTo(best, 0);
                }
                else
                {
                    sinceBest++;
                }
            }

            onEpoch?.Invoke(new InfoNceEpoch(epoch, sum / batches.Count, Math.Exp(parameters[_network.LogScaleIndex]), recall, watch.Elapsed.TotalSeconds));
            if (validation != null && _schedule.Patience > 0 && sinceBest >= _schedule.Patience)
            {
                break;
            }
        }

        if (validation != null)
        {
            best.CopyTo(parameters, 0);
        }

        return epochsRun;
    }

    // Reads the first value of each row of the batch before the rows are copied: the cache and TLB misses of all rows then overlap,
    // where row after row of copies would wait for each (about 10x faster on a 50,000-row set). The sum goes to a field so the reads stay.
    private static void Touch(InfoNceDataSet data, int[] batch, int sizeA, int sizeB)
    {
        if (sizeA == 0 || sizeB == 0)
        {
            return;
        }

        float sum = 0;
        foreach (int row in batch)
        {
            sum += data.A[row * sizeA] + data.B[row * sizeB];
        }

        s_touched = sum;
    }

    /// <summary>Mean of recall@1 in both directions over all rows of <paramref name="data"/>.</summary>
    public double RecallAt1(float[] parameters, InfoNceDataSet data)
    {
        var (za, zb) = Embed(_network, parameters, data);
        var ab = new int[data.Rows];
        var ba = new int[data.Rows];
        Retrieval.Ranks(za, zb, data.Rows, _network.EmbeddingSize, ab, ba);
        return 0.5 * (Retrieval.Summarize(ab).At1 + Retrieval.Summarize(ba).At1);
    }

    public static (float[] Za, float[] Zb) Embed(InfoNceNetwork<float> network, float[] parameters, InfoNceDataSet data)
    {
        int e = network.EmbeddingSize;
        var za = new float[data.Rows * e];
        var zb = new float[data.Rows * e];
        const int Block = 512;
        using var workspaceA = network.HeadA.CreateWorkspace(Block);
        using var workspaceB = network.HeadB.CreateWorkspace(Block);
        var pa = parameters.AsSpan(0, network.OffsetB);
        var pb = parameters.AsSpan(network.OffsetB, network.HeadB.ParameterCount);
        for (int start = 0; start < data.Rows; start += Block)
        {
            int count = Math.Min(Block, data.Rows - start);
            InfoNceNetwork<float>.Embed(network.HeadA, pa, data.A.AsSpan(start * network.HeadA.InputSize), count, workspaceA, za.AsSpan(start * e));
            InfoNceNetwork<float>.Embed(network.HeadB, pb, data.B.AsSpan(start * network.HeadB.InputSize), count, workspaceB, zb.AsSpan(start * e));
        }

        return (za, zb);
    }
}
