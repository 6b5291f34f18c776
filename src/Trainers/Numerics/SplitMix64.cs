using System;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// A tiny, fully specified random generator (SplitMix64), so that shuffles, initial weights and samples depend on the seed only,
/// never on the .NET version, and the Python references can reproduce them.
/// </summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n), n &gt; 0 (by multiply-shift; the bias is below 2^-32 for the sizes used here).</summary>
    public int NextInt(int n) => (int)((NextUInt64() >> 32) * (ulong)n >> 32);

    /// <summary>A standard normal draw (Box-Muller, one of the pair).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates, from the last position down.</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>A seed for an independent stream, from a parent seed and an index (for example a row position).</summary>
    public static ulong Derive(ulong seed, ulong index)
    {
        var mix = new SplitMix64(seed ^ (index * 0xD1B54A32D192ED03UL));
        return mix.NextUInt64();
    }
}
