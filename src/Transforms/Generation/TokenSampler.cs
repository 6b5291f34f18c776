using System;

namespace MlNotes.Transforms.Generation;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a small generator whose stream depends only on its seed, so each row's draws are
/// the same however rows are batched. The seed of a row mixes the option's seed with the row's <c>DataViewRowId</c>.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The seed of row <paramref name="high"/>:<paramref name="low"/> under <paramref name="seed"/>.</summary>
    public static ulong RowSeed(int seed, ulong high, ulong low)
    {
        var g = new SplitMix64(((ulong)(uint)seed << 32) ^ 0x9E3779B97F4A7C15UL);
        ulong a = g.Next() ^ high;
        var h = new SplitMix64(a);
        return h.Next() ^ low;
    }

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}

/// <summary>
/// Draws a token from softmax(logits / temperature) restricted to the top-k tokens (k = 0: all) and then to the smallest set of
/// most probable tokens whose probability reaches top-p (p = 1: all), renormalized; ties are ordered by token id.
/// </summary>
internal sealed class TokenSampler
{
    private readonly double _temperature;
    private readonly int _topK;
    private readonly double _topP;
    private readonly double[] _p;
    private readonly int[] _order;

    public TokenSampler(GenerationConfig config, int vocabulary)
    {
        _temperature = config.Temperature;
        _topK = config.TopK;
        _topP = config.TopP;
        _p = new double[vocabulary];
        _order = new int[vocabulary];
    }

    public int Sample(ReadOnlySpan<float> logits, ref SplitMix64 random)
    {
        int v = logits.Length;
        double max = double.NegativeInfinity;
        for (int i = 0; i < v; i++)
        {
            max = Math.Max(max, logits[i] / _temperature);
            _order[i] = i;
        }

        double sum = 0;
        for (int i = 0; i < v; i++)
        {
            _p[i] = Math.Exp(logits[i] / _temperature - max);
            sum += _p[i];
        }

        var p = _p;
        Array.Sort(_order, (a, b) => p[a] != p[b] ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        int keep = _topK > 0 ? Math.Min(_topK, v) : v;
        double kept = 0;
        for (int i = 0; i < keep; i++)
        {
            kept += p[_order[i]];
        }

        if (_topP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += p[_order[i]] / kept;
                if (cumulative >= _topP)
                {
                    keep = i + 1;
                    break;
                }
            }

            kept = 0;
            for (int i = 0; i < keep; i++)
            {
                kept += p[_order[i]];
            }
        }

        double u = random.NextDouble() * kept, acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += p[_order[i]];
            if (u < acc)
            {
                return _order[i];
            }
        }

        return _order[keep - 1];
    }
}
