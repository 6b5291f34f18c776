using System;
using System.Linq;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Tests;

public sealed class MlpRow
{
    public int Id { get; set; }

    [VectorType(256)]
    public float[] x { get; set; } = Array.Empty<float>();

    public static MlpRow[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => new MlpRow { Id = i, x = Enumerable.Range(0, 256).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray() })
            .ToArray();
    }
}

public sealed class MlpScored
{
    public int Id { get; set; }

    [VectorType(256)]
    public float[] y { get; set; } = Array.Empty<float>();
}

public sealed class ImageRow
{
    public int Id { get; set; }

    [VectorType(1, 28, 28)]
    public float[] image { get; set; } = Array.Empty<float>();

    public static ImageRow[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => new ImageRow { Id = i, image = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray() })
            .ToArray();
    }
}

public sealed class ImageScored
{
    public int Id { get; set; }

    [VectorType(10)]
    public float[] logits { get; set; } = Array.Empty<float>();

    [VectorType(64)]
    public float[] embedding { get; set; } = Array.Empty<float>();
}

public sealed class MultiIoRow
{
    [VectorType(4)]
    public float[] a { get; set; } = Array.Empty<float>();

    [VectorType(3)]
    public double[] b { get; set; } = Array.Empty<double>();

    [VectorType(2)]
    public int[] c { get; set; } = Array.Empty<int>();

    [VectorType(5)]
    public long[] d { get; set; } = Array.Empty<long>();

    [VectorType(5)]
    public bool[] m { get; set; } = Array.Empty<bool>();
}

public sealed class MultiIoScored
{
    [VectorType(4)]
    public float[] f { get; set; } = Array.Empty<float>();

    [VectorType(3)]
    public double[] g { get; set; } = Array.Empty<double>();

    [VectorType(2)]
    public int[] h { get; set; } = Array.Empty<int>();

    public long s { get; set; }

    [VectorType(5)]
    public bool[] p { get; set; } = Array.Empty<bool>();
}

public sealed class TokenRow
{
    public int Id { get; set; }

    [VectorType]
    public long[] input_ids { get; set; } = Array.Empty<long>();

    [VectorType]
    public long[] attention_mask { get; set; } = Array.Empty<long>();
}

public sealed class TokenScored
{
    public int Id { get; set; }

    [VectorType]
    public float[] hidden { get; set; } = Array.Empty<float>();

    [VectorType(8)]
    public float[] pooled { get; set; } = Array.Empty<float>();
}
