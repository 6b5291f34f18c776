using System;
using System.Linq;
using MlNotes.Trainers.Numerics;
using Xunit;

namespace MlNotes.Trainers.Tests.Numerics;

public sealed class GemmTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 16, 16)]
    [InlineData(5, 7, 15)]
    [InlineData(13, 64, 64)]
    [InlineData(256, 16, 64)]
    [InlineData(3, 33, 17)]
    [InlineData(37, 300, 130)] // several blocks of k, packed panels of B, a vector tail and a scalar tail of n
    [InlineData(256, 256, 64)] // the InfoNCE backward product's shape
    [InlineData(9, 129, 257)]
    public void Multiply_matches_the_naive_product(int m, int k, int n)
    {
        var random = new Random(m * 100 + k * 10 + n);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var c = Enumerable.Range(0, m * n).Select(_ => 1f).ToArray();
        Gemm.Multiply<float>(a, b, c, m, k, n, accumulate: true);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = 1;
                for (int p = 0; p < k; p++)
                {
                    expected += a[i * k + p] * (double)b[p * n + j];
                }

                Assert.Equal(expected, c[i * n + j], 1e-4);
            }
        }

        var d = new double[m * n];
        Gemm.Multiply<double>(a.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(), d, m, k, n, accumulate: false);
        for (int i = 0; i < m * n; i++)
        {
            Assert.Equal(c[i] - 1, d[i], 1e-4);
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 15)]
    [InlineData(64, 256, 64)]
    [InlineData(37, 300, 130)]
    public void MultiplyTransposedA_matches_the_naive_product(int m, int k, int n)
    {
        var random = new Random(m * 7 + k * 3 + n);
        var a = Enumerable.Range(0, k * m).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(); // (k, m)
        var b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var c = Enumerable.Range(0, m * n).Select(_ => 2f).ToArray();
        Gemm.MultiplyTransposedA<float>(a, b, c, m, k, n, accumulate: true);
        var fresh = new float[m * n];
        Gemm.MultiplyTransposedA<float>(a, b, fresh, m, k, n, accumulate: false);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = 0;
                for (int p = 0; p < k; p++)
                {
                    expected += a[p * m + i] * (double)b[p * n + j];
                }

                Assert.Equal(expected + 2, c[i * n + j], 1e-4);
                Assert.Equal(expected, fresh[i * n + j], 1e-4);
            }
        }
    }

    [Fact]
    public void Transpose_swaps_rows_and_columns()
    {
        var src = Enumerable.Range(0, 6 * 35).Select(i => (float)i).ToArray();
        var dst = new float[src.Length];
        Gemm.Transpose<float>(src, dst, 6, 35);
        for (int r = 0; r < 6; r++)
        {
            for (int c = 0; c < 35; c++)
            {
                Assert.Equal(src[r * 35 + c], dst[c * 6 + r]);
            }
        }
    }
}
