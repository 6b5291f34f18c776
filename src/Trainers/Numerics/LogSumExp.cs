using System;
using System.Numerics;

namespace MlNotes.Trainers.Numerics;

/// <summary>Stable log-sum-exp and log-softmax: subtract the maximum first (TensorPrimitives.SoftMax does not).</summary>
internal static class LogSumExp
{
    /// <summary>log(sum_i exp(x_i)); negative infinity for an empty span or all terms negative infinity.</summary>
    public static T Compute<T>(ReadOnlySpan<T> x)
        where T : IFloatingPointIeee754<T>
    {
        T max = T.NegativeInfinity;
        foreach (T v in x)
        {
            max = T.Max(max, v);
        }

        if (T.IsNegativeInfinity(max) || T.IsNaN(max))
        {
            return max;
        }

        T sum = T.Zero;
        foreach (T v in x)
        {
            sum += T.Exp(v - max);
        }

        return max + T.Log(sum);
    }

    /// <summary>dst_i = x_i - log(sum_j exp(x_j)).</summary>
    public static void LogSoftmax<T>(ReadOnlySpan<T> x, Span<T> dst)
        where T : IFloatingPointIeee754<T>
    {
        T lse = Compute(x);
        for (int i = 0; i < x.Length; i++)
        {
            dst[i] = x[i] - lse;
        }
    }
}
