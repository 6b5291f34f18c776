using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.InfoNce;

/// <summary>
/// The row-wise parts of <see cref="InfoNceNetwork{T}.LossAndGradient"/>, each one pass of vector code over a row (Vector512 where accelerated,
/// else Vector256, else scalars): the symmetric softmax cross-entropy over the (rows, rows) logits, and the L2 normalization forward and back.
/// </summary>
internal static partial class InfoNceKernels
{
    /// <summary>
    /// Sum over rows and columns of logZ - logit of the partner, for logits = scale cos with entries of different groups at -inf.
    /// With <paramref name="withGradient"/>, also G = dLoss/dlogits = (P_rows - I) / 2B + (P_cols - I) / 2B into <paramref name="g"/>
    /// and <paramref name="dt"/> = sum G o cos. <paramref name="columnP"/> (rows, rows) and <paramref name="work"/> (4 rows) are scratch.
    /// </summary>
    public static double SoftmaxCrossEntropy<T>(ReadOnlySpan<T> cos, T scale, ReadOnlySpan<int> groups, int rows, Span<T> g, Span<T> columnP,
        Span<T> work, bool withGradient, out T dt)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (cos.Length < rows * rows || g.Length < rows * rows || columnP.Length < rows * rows || work.Length < 4 * rows)
        {
            throw new ArgumentException("InfoNceKernels: spans too short.");
        }

        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            if (Vector512.IsHardwareAccelerated)
            {
                return SoftmaxCrossEntropy<T, Vector512<T>, Simd512<T>>(cos, scale, groups, rows, g, columnP, work, withGradient, out dt);
            }

            if (Vector256.IsHardwareAccelerated)
            {
                return SoftmaxCrossEntropy<T, Vector256<T>, Simd256<T>>(cos, scale, groups, rows, g, columnP, work, withGradient, out dt);
            }
        }

        return SoftmaxCrossEntropy<T, T, Scalar<T>>(cos, scale, groups, rows, g, columnP, work, withGradient, out dt);
    }

    /// <summary>z = u / ||u|| for each row of <paramref name="u"/> (rows, e); the norms (at least 1e-12) into <paramref name="norms"/> unless it is empty.</summary>
    public static void Normalize<T>(ReadOnlySpan<T> u, Span<T> z, Span<T> norms, int rows, int e)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (u.Length < rows * e || z.Length < rows * e || (!norms.IsEmpty && norms.Length < rows))
        {
            throw new ArgumentException("InfoNceKernels: spans too short.");
        }

        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Normalize<T, Vector512<T>, Simd512<T>>(u, z, norms, rows, e);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Normalize<T, Vector256<T>, Simd256<T>>(u, z, norms, rows, e);
        }
        else
        {
            Normalize<T, T, Scalar<T>>(u, z, norms, rows, e);
        }
    }

    /// <summary>
    /// Back through <see cref="Normalize{T}"/> and the logit scale: dz (rows, e) arrives without the scale and leaves as
    /// du = scale (dz - z (z . dz)) / ||u||, row by row.
    /// </summary>
    public static void NormalizeBackward<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> norms, Span<T> dz, int rows, int e, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (z.Length < rows * e || dz.Length < rows * e || norms.Length < rows)
        {
            throw new ArgumentException("InfoNceKernels: spans too short.");
        }

        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            NormalizeBackward<T, Vector512<T>, Simd512<T>>(z, norms, dz, rows, e, scale);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            NormalizeBackward<T, Vector256<T>, Simd256<T>>(z, norms, dz, rows, e, scale);
        }
        else
        {
            NormalizeBackward<T, T, Scalar<T>>(z, norms, dz, rows, e, scale);
        }
    }

    // Three passes over the rows: (1) row softmax numerators into g, row sums and column maxima; (2) column softmax numerators into
    // columnP and column sums; (3) G = g / (2B row sum) + columnP / (2B column sum) - I / B, and its dot product with cos.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SoftmaxCrossEntropy<T, TV, TOps>(ReadOnlySpan<T> cos, T scale, ReadOnlySpan<int> groups, int rows, Span<T> g,
        Span<T> columnP, Span<T> work, bool withGradient, out T dt)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        var logits = work[..rows];
        var rowScale = work.Slice(rows, rows);
        var columnMax = work.Slice(2 * rows, rows);
        var columnScale = work.Slice(3 * rows, rows);
        T inverse = T.One / T.CreateTruncating(2 * rows);
        double loss = 0;
        columnMax.Fill(T.NegativeInfinity);
        for (int i = 0; i < rows; i++)
        {
            Logits<T, TV, TOps>(cos.Slice(i * rows, rows), scale, groups, i, logits);
            T max = MaxInto<T, TV, TOps>(logits, columnMax);
            T sum = ExpShifted<T, TV, TOps>(logits, max, g.Slice(i * rows, rows));
            loss += double.CreateTruncating(max + T.Log(sum) - logits[i]);
            rowScale[i] = inverse / sum;
        }

        columnScale.Clear(); // column sums, for now
        for (int i = 0; i < rows; i++)
        {
            Logits<T, TV, TOps>(cos.Slice(i * rows, rows), scale, groups, i, logits);
            ExpShiftedColumns<T, TV, TOps>(logits, columnMax, columnP.Slice(i * rows, rows), columnScale);
        }

        for (int j = 0; j < rows; j++)
        {
            T sum = columnScale[j];
            loss += double.CreateTruncating(columnMax[j] + T.Log(sum) - scale * cos[j * rows + j]);
            columnScale[j] = inverse / sum;
        }

        dt = T.Zero;
        if (withGradient)
        {
            T twice = inverse + inverse;
            for (int i = 0; i < rows; i++)
            {
                var gi = g.Slice(i * rows, rows);
                var ci = cos.Slice(i * rows, rows);
                dt += Combine<T, TV, TOps>(gi, rowScale[i], columnP.Slice(i * rows, rows), columnScale, ci);
                gi[i] -= twice;
                dt -= twice * ci[i];
            }
        }

        return loss;
    }

    // logits = scale cos, entries of other groups at -inf.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Logits<T, TV, TOps>(ReadOnlySpan<T> cos, T scale, ReadOnlySpan<int> groups, int row, Span<T> logits)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int n = logits.Length;
        int w = TOps.Count;
        ref T c = ref MemoryMarshal.GetReference(cos);
        ref T l = ref MemoryMarshal.GetReference(logits);
        TV s = TOps.Broadcast(scale);
        int j = 0;
        for (; j + w <= n; j += w)
        {
            TOps.Store(TOps.Multiply(TOps.Load(ref Unsafe.Add(ref c, j)), s), ref Unsafe.Add(ref l, j));
        }

        for (; j < n; j++)
        {
            Unsafe.Add(ref l, j) = Unsafe.Add(ref c, j) * scale;
        }

        if (!groups.IsEmpty)
        {
            int own = groups[row];
            for (j = 0; j < n; j++)
            {
                if (groups[j] != own)
                {
                    logits[j] = T.NegativeInfinity;
                }
            }
        }
    }

    // columnMax = max(columnMax, x) element by element; returns the maximum of x.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T MaxInto<T, TV, TOps>(ReadOnlySpan<T> x, Span<T> columnMax)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int n = x.Length;
        int w = TOps.Count;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T rm = ref MemoryMarshal.GetReference(columnMax);
        T max = T.NegativeInfinity;
        int j = 0;
        if (n >= w)
        {
            TV acc = TOps.Broadcast(T.NegativeInfinity);
            for (; j + w <= n; j += w)
            {
                TV v = TOps.Load(ref Unsafe.Add(ref rx, j));
                acc = TOps.Max(acc, v);
                ref T m = ref Unsafe.Add(ref rm, j);
                TOps.Store(TOps.Max(TOps.Load(ref m), v), ref m);
            }

            max = TOps.MaxAcross(acc);
        }

        for (; j < n; j++)
        {
            T v = Unsafe.Add(ref rx, j);
            max = v > max ? v : max;
            ref T m = ref Unsafe.Add(ref rm, j);
            m = v > m ? v : m;
        }

        return max;
    }

    // dst = e^(x - shift); returns the sum of dst.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ExpShifted<T, TV, TOps>(ReadOnlySpan<T> x, T shift, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int n = x.Length;
        int w = TOps.Count;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T rd = ref MemoryMarshal.GetReference(dst);
        T sum = T.Zero;
        int j = 0;
        if (n >= w)
        {
            TV s = TOps.Broadcast(shift);
            TV acc = default;
            for (; j + w <= n; j += w)
            {
                TV v = TOps.Exp(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref rx, j)), s));
                acc = TOps.Add(acc, v);
                TOps.Store(v, ref Unsafe.Add(ref rd, j));
            }

            sum = TOps.Sum(acc);
        }

        for (; j < n; j++)
        {
            T v = T.Exp(Unsafe.Add(ref rx, j) - shift);
            sum += v;
            Unsafe.Add(ref rd, j) = v;
        }

        return sum;
    }

    // dst = e^(x - columnMax) element by element; columnSum += dst.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExpShiftedColumns<T, TV, TOps>(ReadOnlySpan<T> x, ReadOnlySpan<T> columnMax, Span<T> dst, Span<T> columnSum)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int n = x.Length;
        int w = TOps.Count;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T rm = ref MemoryMarshal.GetReference(columnMax);
        ref T rd = ref MemoryMarshal.GetReference(dst);
        ref T rs = ref MemoryMarshal.GetReference(columnSum);
        int j = 0;
        for (; j + w <= n; j += w)
        {
            TV v = TOps.Exp(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref rx, j)), TOps.Load(ref Unsafe.Add(ref rm, j))));
            TOps.Store(v, ref Unsafe.Add(ref rd, j));
            ref T s = ref Unsafe.Add(ref rs, j);
            TOps.Store(TOps.Add(TOps.Load(ref s), v), ref s);
        }

        for (; j < n; j++)
        {
            T v = T.Exp(Unsafe.Add(ref rx, j) - Unsafe.Add(ref rm, j));
            Unsafe.Add(ref rd, j) = v;
            Unsafe.Add(ref rs, j) += v;
        }
    }

    // g = g rowScale + columnP columnScale element by element; returns g . cos.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Combine<T, TV, TOps>(Span<T> g, T rowScale, ReadOnlySpan<T> columnP, ReadOnlySpan<T> columnScale, ReadOnlySpan<T> cos)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int n = g.Length;
        int w = TOps.Count;
        ref T rg = ref MemoryMarshal.GetReference(g);
        ref T rp = ref MemoryMarshal.GetReference(columnP);
        ref T rs = ref MemoryMarshal.GetReference(columnScale);
        ref T rc = ref MemoryMarshal.GetReference(cos);
        T dot = T.Zero;
        int j = 0;
        if (n >= w)
        {
            TV r = TOps.Broadcast(rowScale);
            TV acc = default;
            for (; j + w <= n; j += w)
            {
                ref T gj = ref Unsafe.Add(ref rg, j);
                TV v = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref rp, j)), TOps.Load(ref Unsafe.Add(ref rs, j)), TOps.Multiply(TOps.Load(ref gj), r));
                TOps.Store(v, ref gj);
                acc = TOps.MultiplyAdd(v, TOps.Load(ref Unsafe.Add(ref rc, j)), acc);
            }

            dot = TOps.Sum(acc);
        }

        for (; j < n; j++)
        {
            ref T gj = ref Unsafe.Add(ref rg, j);
            gj = gj * rowScale + Unsafe.Add(ref rp, j) * Unsafe.Add(ref rs, j);
            dot += gj * Unsafe.Add(ref rc, j);
        }

        return dot;
    }
}
