using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;

namespace MlNotes.Trainers.Tests.Mdn;

public sealed class XRow
{
    public float X { get; set; }

    public float Label { get; set; }
}

public sealed class VectorRow
{
    [VectorType(2)]
    public float[] Features { get; set; } = Array.Empty<float>();

    [VectorType(2)]
    public float[] Label { get; set; } = Array.Empty<float>();
}

public sealed class MdnOutput
{
    public float Score { get; set; }

    public float Mode { get; set; }

    public float StandardDeviation { get; set; }

    public float LowerBound { get; set; }

    public float UpperBound { get; set; }

    public float[] MixtureWeights { get; set; } = Array.Empty<float>();

    public float[] MixtureMeans { get; set; } = Array.Empty<float>();

    public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();

    public float[] MixtureLogWeights { get; set; } = Array.Empty<float>();
}

/// <summary>Data sets of the MDN tests.</summary>
public static class MdnData
{
    /// <summary>Bishop's inverse problem: t ~ U(0, 1), x = t + 0.3 sin(2 pi t) + U(-0.1, 0.1); predict t from x (multi-valued near x = 0.5).</summary>
    public static XRow[] Inverse(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            double t = random.NextDouble();
            double x = t + 0.3 * Math.Sin(2 * Math.PI * t) + (random.NextDouble() * 0.2 - 0.1);
            return new XRow { X = (float)x, Label = (float)t };
        }).ToArray();
    }

    /// <summary>Old Faithful: X = eruption duration (min), Label = waiting time (min).</summary>
    public static XRow[] Faithful()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Data", "faithful.csv");
        return File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var parts = l.Split(',');
            return new XRow { X = float.Parse(parts[0], CultureInfo.InvariantCulture), Label = float.Parse(parts[1], CultureInfo.InvariantCulture) };
        }).ToArray();
    }
}
