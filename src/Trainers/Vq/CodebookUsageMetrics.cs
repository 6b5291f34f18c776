using System;
using System.Collections.Generic;

namespace MlNotes.Trainers.Vq;

/// <summary>
/// How a codebook's codes are used over a set of vectors: the count per code, the share of codes used at least once, and the
/// perplexity exp(-sum p_k ln p_k) of the codes' frequencies p_k (K when every code is used equally often, 1 when one code takes all).
/// </summary>
public sealed class CodebookUsageMetrics
{
    internal CodebookUsageMetrics(long[] counts)
    {
        Counts = counts;
        long total = 0;
        int used = 0;
        foreach (long c in counts)
        {
            total += c;
            used += c > 0 ? 1 : 0;
        }

        double entropy = 0;
        foreach (long c in counts)
        {
            if (c > 0)
            {
                double p = (double)c / total;
                entropy -= p * Math.Log(p);
            }
        }

        CodesUsed = used;
        Vectors = total;
        CodebookUsage = counts.Length == 0 ? 0 : (double)used / counts.Length;
        Perplexity = total == 0 ? 0 : Math.Exp(entropy);
    }

    /// <summary>How many vectors each code is nearest to (index k: code k, key value k + 1).</summary>
    public IReadOnlyList<long> Counts { get; }

    /// <summary>The number of vectors counted.</summary>
    public long Vectors { get; }

    /// <summary>The number of codes nearest to at least one vector.</summary>
    public int CodesUsed { get; }

    /// <summary>The number of codes nearest to no vector: K - <see cref="CodesUsed"/>.</summary>
    public int DeadCodes => Counts.Count - CodesUsed;

    /// <summary><see cref="CodesUsed"/> / K.</summary>
    public double CodebookUsage { get; }

    /// <summary>exp of the entropy (nats) of the codes' frequencies; 0 for no vectors.</summary>
    public double Perplexity { get; }
}
