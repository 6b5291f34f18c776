using System;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.InfoNce;

/// <summary>Ranks of each row's partner among all candidates, from L2-normalized embeddings, in blocks of queries.</summary>
internal static class Retrieval
{
    private const int Block = 256;

    /// <summary>
    /// rankAtoB[i] = 1 + number of rows j whose B is more similar to A_i than B_i is; rankBtoA likewise. Ties count in the query's favour.
    /// </summary>
    public static void Ranks(float[] za, float[] zb, int rows, int size, int[] rankAtoB, int[] rankBtoA)
    {
        var zbT = new float[size * rows];
        var zaT = new float[size * rows];
        Gemm.Transpose<float>(zb, zbT, rows, size);
        Gemm.Transpose<float>(za, zaT, rows, size);
        var similarities = new float[Math.Min(Block, rows) * rows];
        Rank(za, zbT, rows, size, similarities, rankAtoB);
        Rank(zb, zaT, rows, size, similarities, rankBtoA);
    }

    public static (double At1, double At5, double At10, double Mrr, double MeanRank) Summarize(int[] ranks)
    {
        double at1 = 0, at5 = 0, at10 = 0, mrr = 0, mean = 0;
        foreach (int rank in ranks)
        {
            at1 += rank <= 1 ? 1 : 0;
            at5 += rank <= 5 ? 1 : 0;
            at10 += rank <= 10 ? 1 : 0;
            mrr += 1.0 / rank;
            mean += rank;
        }

        int n = ranks.Length;
        return (at1 / n, at5 / n, at10 / n, mrr / n, mean / n);
    }

    private static void Rank(float[] queries, float[] candidatesT, int rows, int size, float[] similarities, int[] ranks)
    {
        for (int start = 0; start < rows; start += Block)
        {
            int count = Math.Min(Block, rows - start);
            Gemm.Multiply<float>(queries.AsSpan(start * size, count * size), candidatesT, similarities, count, size, rows, accumulate: false);
            for (int q = 0; q < count; q++)
            {
                var row = similarities.AsSpan(q * rows, rows);
                float own = row[start + q];
                int better = 0;
                foreach (float s in row)
                {
                    if (s > own)
                    {
                        better++;
                    }
                }

                ranks[start + q] = 1 + better;
            }
        }
    }
}
