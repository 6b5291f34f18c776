using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// Dense row-major matrix products for the native trainers: C(m, n) += A(m, k) B(k, n), register-blocked on
/// <see cref="Vector256{T}"/> (4 rows by 2 vectors of C per step), plus the transposes that turn the backward
/// products (A^T B, A B^T) into that one kernel.
/// </summary>
internal static class Gemm
{
    /// <summary>C(m, n) = A(m, k) B(k, n), or C += A B when <paramref name="accumulate"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException($"Gemm: spans too short for ({m}, {k}) x ({k}, {n}).");
        }

        if (!accumulate)
        {
            c[..(m * n)].Clear();
        }

        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rb = ref MemoryMarshal.GetReference(b);
        ref T rc = ref MemoryMarshal.GetReference(c);
        int w = Vector256<T>.Count;
        bool vectorized = Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;
        int i = 0;
        if (vectorized)
        {
            for (; i + 4 <= m; i += 4)
            {
                int j = 0;
                for (; j + 2 * w <= n; j += 2 * w)
                {
                    Block4x2(ref ra, ref rb, ref rc, i, j, k, n);
                }

                for (int r = i; r < i + 4; r++)
                {
                    Row(ref ra, ref rb, ref rc, r, j, k, n);
                }
            }
        }

        for (; i < m; i++)
        {
            Row(ref ra, ref rb, ref rc, i, 0, k, n);
        }
    }

    /// <summary>dst(cols, rows) = src(rows, cols)^T.</summary>
    public static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, int rows, int cols)
    {
        if (src.Length < rows * cols || dst.Length < rows * cols)
        {
            throw new ArgumentException($"Gemm: spans too short to transpose ({rows}, {cols}).");
        }

        const int Tile = 16;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < cols; c0 += Tile)
            {
                int c1 = Math.Min(cols, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        dst[c * rows + r] = src[r * cols + c];
                    }
                }
            }
        }
    }

    // C[i..i+4, j..j+2w] += A[i..i+4, :] B[:, j..j+2w]: 8 accumulators, 2 loads and 4 broadcasts per step of k.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x2<T>(ref T a, ref T b, ref T c, int i, int j, int k, int n)
        where T : unmanaged, INumber<T>
    {
        int w = Vector256<T>.Count;
        var c00 = Vector256<T>.Zero; var c01 = Vector256<T>.Zero;
        var c10 = Vector256<T>.Zero; var c11 = Vector256<T>.Zero;
        var c20 = Vector256<T>.Zero; var c21 = Vector256<T>.Zero;
        var c30 = Vector256<T>.Zero; var c31 = Vector256<T>.Zero;
        ref T a0 = ref Unsafe.Add(ref a, i * k);
        ref T a1 = ref Unsafe.Add(ref a0, k);
        ref T a2 = ref Unsafe.Add(ref a1, k);
        ref T a3 = ref Unsafe.Add(ref a2, k);
        ref T bj = ref Unsafe.Add(ref b, j);
        for (int p = 0; p < k; p++)
        {
            ref T bp = ref Unsafe.Add(ref bj, p * n);
            var b0 = Vector256.LoadUnsafe(ref bp);
            var b1 = Vector256.LoadUnsafe(ref bp, (nuint)w);
            var x = Vector256.Create(Unsafe.Add(ref a0, p));
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(Unsafe.Add(ref a1, p));
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(Unsafe.Add(ref a2, p));
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(Unsafe.Add(ref a3, p));
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
        }

        ref T c0 = ref Unsafe.Add(ref c, i * n + j);
        Store(ref c0, c00, c01, w);
        Store(ref Unsafe.Add(ref c0, n), c10, c11, w);
        Store(ref Unsafe.Add(ref c0, 2 * n), c20, c21, w);
        Store(ref Unsafe.Add(ref c0, 3 * n), c30, c31, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(ref T dst, Vector256<T> v0, Vector256<T> v1, int w)
        where T : unmanaged, INumber<T>
    {
        (Vector256.LoadUnsafe(ref dst) + v0).StoreUnsafe(ref dst);
        (Vector256.LoadUnsafe(ref dst, (nuint)w) + v1).StoreUnsafe(ref dst, (nuint)w);
    }

    // C[i, j0..n] += A[i, :] B[:, j0..n]: one row, a vector at a time, then scalars.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<T>(ref T a, ref T b, ref T c, int i, int j0, int k, int n)
        where T : unmanaged, INumber<T>
    {
        ref T ai = ref Unsafe.Add(ref a, i * k);
        ref T ci = ref Unsafe.Add(ref c, i * n);
        int j = j0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            int w = Vector256<T>.Count;
            for (; j + w <= n; j += w)
            {
                var acc = Vector256<T>.Zero;
                for (int p = 0; p < k; p++)
                {
                    acc = Fma(Vector256.Create(Unsafe.Add(ref ai, p)), Vector256.LoadUnsafe(ref Unsafe.Add(ref b, p * n + j)), acc);
                }

                ref T cij = ref Unsafe.Add(ref ci, j);
                (Vector256.LoadUnsafe(ref cij) + acc).StoreUnsafe(ref cij);
            }
        }

        for (; j < n; j++)
        {
            T acc = T.Zero;
            for (int p = 0; p < k; p++)
            {
                acc += Unsafe.Add(ref ai, p) * Unsafe.Add(ref b, p * n + j);
            }

            Unsafe.Add(ref ci, j) += acc;
        }
    }

    // Fused where the element type has an FMA instruction; the JIT folds the type tests away.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }

        return x * y + acc;
    }
}
