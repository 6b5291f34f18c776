using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// Adam with bias correction, step for step as PyTorch's <c>torch.optim.Adam</c> (no weight decay here: the trainers put
/// their prior into the gradient): p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// </summary>
internal sealed class Adam<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _m;
    private readonly T[] _v;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private int _step;

    public Adam(int parameterCount, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _m = new T[parameterCount];
        _v = new T[parameterCount];
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
    }

    public int Step => _step;

    public void Update(Span<T> parameters, ReadOnlySpan<T> gradient, double learningRate)
    {
        _step++;
        T b1 = T.CreateTruncating(_beta1);
        T b2 = T.CreateTruncating(_beta2);
        T stepSize = T.CreateTruncating(learningRate / (1.0 - Math.Pow(_beta1, _step)));
        T correction2 = T.CreateTruncating(Math.Sqrt(1.0 - Math.Pow(_beta2, _step)));
        T eps = T.CreateTruncating(_epsilon);
        var m = _m.AsSpan(0, parameters.Length);
        var v = _v.AsSpan(0, parameters.Length);
        gradient = gradient[..parameters.Length];
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            i = Update<Vector512<T>, Simd512<T>>(parameters, gradient, m, v, b1, b2, stepSize, correction2, eps);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            i = Update<Vector256<T>, Simd256<T>>(parameters, gradient, m, v, b1, b2, stepSize, correction2, eps);
        }

        T oneMinusB1 = T.One - b1;
        T oneMinusB2 = T.One - b2;
        for (; i < parameters.Length; i++)
        {
            T g = gradient[i];
            T mi = m[i] = b1 * m[i] + oneMinusB1 * g;
            T vi = v[i] = b2 * v[i] + oneMinusB2 * g * g;
            parameters[i] -= stepSize * mi / (T.Sqrt(vi) / correction2 + eps);
        }
    }

    // The same arithmetic as the scalar loop, operation for operation (nothing fused), a vector at a time; returns how many elements it did.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Update<TV, TOps>(Span<T> parameters, ReadOnlySpan<T> gradient, Span<T> m, Span<T> v, T b1, T b2, T stepSize, T correction2, T eps)
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int w = TOps.Count;
        TV vb1 = TOps.Broadcast(b1);
        TV vb2 = TOps.Broadcast(b2);
        TV c1 = TOps.Broadcast(T.One - b1);
        TV c2 = TOps.Broadcast(T.One - b2);
        TV step = TOps.Broadcast(stepSize);
        TV correction = TOps.Broadcast(correction2);
        TV epsilon = TOps.Broadcast(eps);
        ref T rp = ref MemoryMarshal.GetReference(parameters);
        ref T rg = ref MemoryMarshal.GetReference(gradient);
        ref T rm = ref MemoryMarshal.GetReference(m);
        ref T rv = ref MemoryMarshal.GetReference(v);
        int i = 0;
        for (; i + w <= parameters.Length; i += w)
        {
            TV g = TOps.Load(ref Unsafe.Add(ref rg, i));
            TV mi = TOps.Add(TOps.Multiply(vb1, TOps.Load(ref Unsafe.Add(ref rm, i))), TOps.Multiply(c1, g));
            TV vi = TOps.Add(TOps.Multiply(vb2, TOps.Load(ref Unsafe.Add(ref rv, i))), TOps.Multiply(TOps.Multiply(c2, g), g));
            TOps.Store(mi, ref Unsafe.Add(ref rm, i));
            TOps.Store(vi, ref Unsafe.Add(ref rv, i));
            ref T p = ref Unsafe.Add(ref rp, i);
            TV denominator = TOps.Add(TOps.Divide(TOps.Sqrt(vi), correction), epsilon);
            TOps.Store(TOps.Subtract(TOps.Load(ref p), TOps.Divide(TOps.Multiply(step, mi), denominator)), ref p);
        }

        return i;
    }
}
