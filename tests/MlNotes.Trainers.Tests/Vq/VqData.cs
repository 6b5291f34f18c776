using System;
using System.Linq;
using Microsoft.ML.Data;

namespace MlNotes.Trainers.Tests.Vq;

/// <summary>Rows for the vector quantizer's tests: 2-D vectors with the cluster they were drawn from.</summary>
public sealed class VqRow
{
    [VectorType(2)]
    public float[] Features { get; set; } = Array.Empty<float>();

    /// <summary>The cluster, 1 to 5 (a Single, as ML.NET's clustering evaluator reads labels).</summary>
    public float Cluster { get; set; }
}

/// <summary>The vector quantizer's output as a prediction engine reads it.</summary>
public sealed class VqPrediction
{
    public uint PredictedLabel { get; set; }

    public float[] Score { get; set; } = Array.Empty<float>();
}

internal static class VqData
{
    /// <summary>The centres of the four well-separated clusters.</summary>
    public static readonly float[][] Centres = { new[] { -10f, -10f }, new[] { 10f, -10f }, new[] { -10f, 10f }, new[] { 10f, 10f } };

    /// <summary>Four well-separated clusters around <see cref="Centres"/>, <paramref name="sigma"/> per slot, <paramref name="perCluster"/> rows each.</summary>
    public static VqRow[] Gaussians(int perCluster, int seed, double sigma = 0.3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, perCluster * Centres.Length).Select(i =>
        {
            int c = i % Centres.Length;
            return new VqRow
            {
                Features = new[] { Centres[c][0] + (float)(sigma * Gaussian(random)), Centres[c][1] + (float)(sigma * Gaussian(random)) },
                Cluster = c + 1,
            };
        }).ToArray();
    }

    /// <summary>
    /// Data that starves codes: half the rows are copies of one point (0, 0), the other half four spread clusters at (+-10, +-10). Initial
    /// codes are random rows, so several start on the same point (0, 0); ties go to the lower index, so all but one of them never get a
    /// vector and die unless re-initialized.
    /// </summary>
    public static VqRow[] Starving(int perCluster, int seed)
    {
        var spread = Gaussians(perCluster, seed);
        var copies = Enumerable.Range(0, spread.Length).Select(_ => new VqRow { Features = new[] { 0f, 0f }, Cluster = 5 });
        return spread.Concat(copies).ToArray();
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
