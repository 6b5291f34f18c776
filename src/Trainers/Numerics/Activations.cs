using System;
using System.Numerics;
using System.Numerics.Tensors;

namespace MlNotes.Trainers.Numerics;

/// <summary>Hidden-layer nonlinearities, forward and backward, span-in/span-out.</summary>
internal static class Activations
{
    /// <summary>post = f(pre).</summary>
    public static void Forward<T>(Activation kind, ReadOnlySpan<T> pre, Span<T> post)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case Activation.Tanh:
                TensorPrimitives.Tanh(pre, post);
                break;
            case Activation.Relu:
                TensorPrimitives.Max(pre, T.Zero, post);
                break;
            case Activation.Mish:
                for (int i = 0; i < pre.Length; i++)
                {
                    T x = pre[i];
                    post[i] = x * T.Tanh(Softplus(x));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>grad = upstream * f'(pre), using post = f(pre) where that is cheaper. <paramref name="grad"/> may alias <paramref name="upstream"/>.</summary>
    public static void Backward<T>(Activation kind, ReadOnlySpan<T> pre, ReadOnlySpan<T> post, ReadOnlySpan<T> upstream, Span<T> grad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case Activation.Tanh:
                for (int i = 0; i < pre.Length; i++)
                {
                    T y = post[i];
                    grad[i] = upstream[i] * (T.One - y * y);
                }

                break;
            case Activation.Relu:
                for (int i = 0; i < pre.Length; i++)
                {
                    grad[i] = pre[i] > T.Zero ? upstream[i] : T.Zero;
                }

                break;
            case Activation.Mish:
                for (int i = 0; i < pre.Length; i++)
                {
                    // d/dx x tanh(sp(x)) = tanh(sp) + x sech^2(sp) sigmoid(x)
                    T x = pre[i];
                    T t = T.Tanh(Softplus(x));
                    grad[i] = upstream[i] * (t + x * (T.One - t * t) * Sigmoid(x));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>log(1 + e^x) without overflow.</summary>
    public static T Softplus<T>(T x)
        where T : IFloatingPointIeee754<T>
        => T.Max(x, T.Zero) + T.Log(T.One + T.Exp(-T.Abs(x)));

    /// <summary>1 / (1 + e^-x) without overflow.</summary>
    public static T Sigmoid<T>(T x)
        where T : IFloatingPointIeee754<T>
    {
        if (x >= T.Zero)
        {
            return T.One / (T.One + T.Exp(-x));
        }

        T e = T.Exp(x);
        return e / (T.One + e);
    }
}
