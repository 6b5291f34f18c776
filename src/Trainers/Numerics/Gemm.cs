using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// Dense row-major matrix products for the native trainers: C(m, n) = A B or A^T B (plus C when accumulating), register-blocked:
/// 4 rows of C by 4 <see cref="Vector512{T}"/> (or, without 512-bit vectors, 2 <see cref="Vector256{T}"/>) per step, over panels
/// of B (a block of rows, one tile wide, copied to consecutive memory when B is wider) small enough to stay in the L1 cache.
/// A B^T goes through <see cref="Transpose{T}"/>.
/// </summary>
internal static class Gemm
{
    // Bytes of one block of B: rows of a tile's width, kept in L1 (48 KiB or more on current x64 cores) while A streams past.
    private const int BlockBytes = 32 * 1024;

    /// <summary>C(m, n) = A(m, k) B(k, n), or C += A B when <paramref name="accumulate"/>.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException($"Gemm: spans too short for ({m}, {k}) x ({k}, {n}).");
        }

        Run(ref MemoryMarshal.GetReference(a), k, 1, ref MemoryMarshal.GetReference(b), ref MemoryMarshal.GetReference(c), m, k, n, accumulate);
    }

    /// <summary>C(m, n) = A^T B for A (k, m) and B (k, n), or C += A^T B when <paramref name="accumulate"/>; no transposed copy of A is made.</summary>
    public static void MultiplyTransposedA<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (a.Length < k * m || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException($"Gemm: spans too short for ({k}, {m})^T x ({k}, {n}).");
        }

        Run(ref MemoryMarshal.GetReference(a), 1, m, ref MemoryMarshal.GetReference(b), ref MemoryMarshal.GetReference(c), m, k, n, accumulate);
    }

    /// <summary>dst(cols, rows) = src(rows, cols)^T.</summary>
    public static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, int rows, int cols)
    {
        if (src.Length < rows * cols || dst.Length < rows * cols)
        {
            throw new ArgumentException($"Gemm: spans too short to transpose ({rows}, {cols}).");
        }

        ref T s = ref MemoryMarshal.GetReference(src);
        ref T d = ref MemoryMarshal.GetReference(dst);
        const int Tile = 16;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < cols; c0 += Tile)
            {
                int c1 = Math.Min(cols, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    ref T sr = ref Unsafe.Add(ref s, (nint)r * cols);
                    for (int c = c0; c < c1; c++)
                    {
                        Unsafe.Add(ref d, (nint)c * rows + r) = Unsafe.Add(ref sr, c);
                    }
                }
            }
        }
    }

    // A(i, p) is at a[i * rowStride + p * colStride]: (k, 1) for A, (1, m) for A^T.
    private static void Run<T>(ref T a, nint rowStride, nint colStride, ref T b, ref T c, int m, int k, int n, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (k == 0)
        {
            if (!accumulate)
            {
                MemoryMarshal.CreateSpan(ref c, m * n).Clear();
            }

            return;
        }

        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Blocked<T, Vector512<T>, Simd512<T>>(ref a, rowStride, colStride, ref b, ref c, m, k, n, accumulate);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Blocked<T, Vector256<T>, Simd256<T>>(ref a, rowStride, colStride, ref b, ref c, m, k, n, accumulate);
        }
        else
        {
            Columns(ref a, rowStride, colStride, ref b, ref c, 0, m, 0, n, k, n, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<T, TV, TOps>(ref T a, nint rowStride, nint colStride, ref T b, ref T c, int m, int k, int n, bool accumulate)
        where T : unmanaged, INumber<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int w = TOps.Count;
        int tileWidth = TOps.TileVectors * w;
        int blockRows = Math.Max(16, BlockBytes / (tileWidth * Unsafe.SizeOf<T>()));
        bool pack = n > tileWidth;
        ref T packed = ref pack ? ref MemoryMarshal.GetArrayDataReference(PackBuffer<T>.Get(blockRows * tileWidth)) : ref Unsafe.NullRef<T>();
        for (int p0 = 0; p0 < k; p0 += blockRows)
        {
            int kb = Math.Min(blockRows, k - p0);
            bool add = accumulate || p0 > 0;
            ref T ap = ref Unsafe.Add(ref a, p0 * colStride);
            ref T bp = ref Unsafe.Add(ref b, (nint)p0 * n);
            int j = 0;
            for (; j + tileWidth <= n; j += tileWidth)
            {
                // A panel of B with rows n apart can fall into a few L1 sets (n a multiple of 256 floats): copied to consecutive rows, it cannot.
                ref T panel = ref Unsafe.Add(ref bp, j);
                int panelStride = n;
                if (pack)
                {
                    for (int p = 0; p < kb; p++)
                    {
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref panel, (nint)p * n), tileWidth)
                            .CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref packed, p * tileWidth), tileWidth));
                    }

                    panel = ref packed;
                    panelStride = tileWidth;
                }

                if (TOps.TileVectors == 4)
                {
                    Panel<T, TV, TOps, Four>(ref ap, rowStride, colStride, ref panel, panelStride, ref Unsafe.Add(ref c, j), m, kb, n, add);
                }
                else
                {
                    Panel<T, TV, TOps, Two>(ref ap, rowStride, colStride, ref panel, panelStride, ref Unsafe.Add(ref c, j), m, kb, n, add);
                }
            }

            for (; j + w <= n; j += w)
            {
                Panel<T, TV, TOps, One>(ref ap, rowStride, colStride, ref Unsafe.Add(ref bp, j), n, ref Unsafe.Add(ref c, j), m, kb, n, add);
            }

            if (j < n)
            {
                Columns(ref ap, rowStride, colStride, ref bp, ref c, 0, m, j, n, kb, n, add);
            }
        }
    }

    // C[:, j..j+width] for a panel of B (k, width): 4 rows at a time, then single rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Panel<T, TV, TOps, TWidth>(ref T a, nint rowStride, nint colStride, ref T b, int bStride, ref T c, int m, int k, int n, bool add)
        where T : unmanaged, INumber<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
        where TWidth : struct, IWidth
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            Tile4<T, TV, TOps, TWidth>(ref Unsafe.Add(ref a, i * rowStride), rowStride, colStride, ref b, bStride, ref Unsafe.Add(ref c, (nint)i * n), k, n, add);
        }

        for (; i < m; i++)
        {
            Tile1<T, TV, TOps, TWidth>(ref Unsafe.Add(ref a, i * rowStride), colStride, ref b, bStride, ref Unsafe.Add(ref c, (nint)i * n), k, n, add);
        }
    }

    // C[0..4, 0..V w] (+)= sum_p A(r, p) B[p, 0..V w]: 4 V accumulators, V loads and 4 broadcasts per step of k.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4<T, TV, TOps, TWidth>(ref T a, nint rowStride, nint colStride, ref T b, int bStride, ref T c, int k, int n, bool add)
        where T : unmanaged, INumber<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
        where TWidth : struct, IWidth
    {
        int w = TOps.Count;
        int v = TWidth.Vectors;
        TV c00 = default, c01 = default, c02 = default, c03 = default;
        TV c10 = default, c11 = default, c12 = default, c13 = default;
        TV c20 = default, c21 = default, c22 = default, c23 = default;
        TV c30 = default, c31 = default, c32 = default, c33 = default;
        ref T a0 = ref a;
        ref T a1 = ref Unsafe.Add(ref a, rowStride);
        ref T a2 = ref Unsafe.Add(ref a, 2 * rowStride);
        ref T a3 = ref Unsafe.Add(ref a, 3 * rowStride);
        ref T bp = ref b;
        nint ap = 0;
        for (int p = 0; p < k; p++)
        {
            TV b0 = TOps.Load(ref bp);
            TV b1 = v >= 2 ? TOps.Load(ref Unsafe.Add(ref bp, w)) : default;
            TV b2 = v >= 4 ? TOps.Load(ref Unsafe.Add(ref bp, 2 * w)) : default;
            TV b3 = v >= 4 ? TOps.Load(ref Unsafe.Add(ref bp, 3 * w)) : default;
            TV x = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            c00 = TOps.MultiplyAdd(x, b0, c00);
            if (v >= 2)
            {
                c01 = TOps.MultiplyAdd(x, b1, c01);
            }

            if (v >= 4)
            {
                c02 = TOps.MultiplyAdd(x, b2, c02);
                c03 = TOps.MultiplyAdd(x, b3, c03);
            }

            x = TOps.Broadcast(Unsafe.Add(ref a1, ap));
            c10 = TOps.MultiplyAdd(x, b0, c10);
            if (v >= 2)
            {
                c11 = TOps.MultiplyAdd(x, b1, c11);
            }

            if (v >= 4)
            {
                c12 = TOps.MultiplyAdd(x, b2, c12);
                c13 = TOps.MultiplyAdd(x, b3, c13);
            }

            x = TOps.Broadcast(Unsafe.Add(ref a2, ap));
            c20 = TOps.MultiplyAdd(x, b0, c20);
            if (v >= 2)
            {
                c21 = TOps.MultiplyAdd(x, b1, c21);
            }

            if (v >= 4)
            {
                c22 = TOps.MultiplyAdd(x, b2, c22);
                c23 = TOps.MultiplyAdd(x, b3, c23);
            }

            x = TOps.Broadcast(Unsafe.Add(ref a3, ap));
            c30 = TOps.MultiplyAdd(x, b0, c30);
            if (v >= 2)
            {
                c31 = TOps.MultiplyAdd(x, b1, c31);
            }

            if (v >= 4)
            {
                c32 = TOps.MultiplyAdd(x, b2, c32);
                c33 = TOps.MultiplyAdd(x, b3, c33);
            }

            ap += colStride;
            bp = ref Unsafe.Add(ref bp, bStride);
        }

        StoreRow<T, TV, TOps, TWidth>(ref c, c00, c01, c02, c03, add);
        StoreRow<T, TV, TOps, TWidth>(ref Unsafe.Add(ref c, n), c10, c11, c12, c13, add);
        StoreRow<T, TV, TOps, TWidth>(ref Unsafe.Add(ref c, 2 * n), c20, c21, c22, c23, add);
        StoreRow<T, TV, TOps, TWidth>(ref Unsafe.Add(ref c, 3 * n), c30, c31, c32, c33, add);
    }

    // One row of C[0, 0..V w]: the rows left over below the last group of 4.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1<T, TV, TOps, TWidth>(ref T a, nint colStride, ref T b, int bStride, ref T c, int k, int n, bool add)
        where T : unmanaged, INumber<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
        where TWidth : struct, IWidth
    {
        int w = TOps.Count;
        int v = TWidth.Vectors;
        TV c0 = default, c1 = default, c2 = default, c3 = default;
        ref T bp = ref b;
        nint ap = 0;
        for (int p = 0; p < k; p++)
        {
            TV x = TOps.Broadcast(Unsafe.Add(ref a, ap));
            c0 = TOps.MultiplyAdd(x, TOps.Load(ref bp), c0);
            if (v >= 2)
            {
                c1 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref bp, w)), c1);
            }

            if (v >= 4)
            {
                c2 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref bp, 2 * w)), c2);
                c3 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref bp, 3 * w)), c3);
            }

            ap += colStride;
            bp = ref Unsafe.Add(ref bp, bStride);
        }

        StoreRow<T, TV, TOps, TWidth>(ref c, c0, c1, c2, c3, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<T, TV, TOps, TWidth>(ref T c, TV v0, TV v1, TV v2, TV v3, bool add)
        where T : unmanaged, INumber<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
        where TWidth : struct, IWidth
    {
        int w = TOps.Count;
        int v = TWidth.Vectors;
        Store<T, TV, TOps>(ref c, v0, add);
        if (v >= 2)
        {
            Store<T, TV, TOps>(ref Unsafe.Add(ref c, w), v1, add);
        }

        if (v >= 4)
        {
            Store<T, TV, TOps>(ref Unsafe.Add(ref c, 2 * w), v2, add);
            Store<T, TV, TOps>(ref Unsafe.Add(ref c, 3 * w), v3, add);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T, TV, TOps>(ref T destination, TV value, bool add)
        where T : unmanaged, INumber<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
        => TOps.Store(add ? TOps.Add(TOps.Load(ref destination), value) : value, ref destination);

    // C[i0..i1, j0..j1] (+)= A B one element at a time: columns left over right of the last vector, or no vectors at all.
    private static void Columns<T>(ref T a, nint rowStride, nint colStride, ref T b, ref T c, int i0, int i1, int j0, int j1, int k, int n, bool add)
        where T : unmanaged, INumber<T>
    {
        for (int i = i0; i < i1; i++)
        {
            ref T ai = ref Unsafe.Add(ref a, i * rowStride);
            ref T ci = ref Unsafe.Add(ref c, (nint)i * n);
            for (int j = j0; j < j1; j++)
            {
                T acc = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    acc += Unsafe.Add(ref ai, p * colStride) * Unsafe.Add(ref b, (nint)p * n + j);
                }

                ref T cij = ref Unsafe.Add(ref ci, j);
                cij = add ? cij + acc : acc;
            }
        }
    }

    // One packing buffer per thread and element type, kept for the thread's life (BlockBytes, a few tens of KiB).
    private static class PackBuffer<T>
    {
        [ThreadStatic]
        private static T[]? s_buffer;

        public static T[] Get(int length)
        {
            if (s_buffer == null || s_buffer.Length < length)
            {
                s_buffer = new T[length];
            }

            return s_buffer;
        }
    }

    private interface IWidth
    {
        static abstract int Vectors { get; }
    }

    private readonly struct One : IWidth
    {
        public static int Vectors => 1;
    }

    private readonly struct Two : IWidth
    {
        public static int Vectors => 2;
    }

    private readonly struct Four : IWidth
    {
        public static int Vectors => 4;
    }
}
