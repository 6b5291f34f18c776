using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Trainers.InfoNce;

/// <summary>The L2 normalization of the projected embeddings, forward and backward, vectorized.</summary>
internal static partial class InfoNceKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize<T, TV, TOps>(ReadOnlySpan<T> u, Span<T> z, Span<T> norms, int rows, int e)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int w = TOps.Count;
        T floor = T.CreateTruncating(1e-12);
        for (int r = 0; r < rows; r++)
        {
            ref T ur = ref Unsafe.Add(ref MemoryMarshal.GetReference(u), r * e);
            ref T zr = ref Unsafe.Add(ref MemoryMarshal.GetReference(z), r * e);
            T squares = T.Zero;
            int j = 0;
            if (e >= w)
            {
                TV acc = default;
                for (; j + w <= e; j += w)
                {
                    TV v = TOps.Load(ref Unsafe.Add(ref ur, j));
                    acc = TOps.MultiplyAdd(v, v, acc);
                }

                squares = TOps.Sum(acc);
            }

            for (; j < e; j++)
            {
                T v = Unsafe.Add(ref ur, j);
                squares += v * v;
            }

            T norm = T.Max(T.Sqrt(squares), floor);
            if (!norms.IsEmpty)
            {
                norms[r] = norm;
            }

            TV vn = TOps.Broadcast(norm);
            for (j = 0; j + w <= e; j += w)
            {
                TOps.Store(TOps.Divide(TOps.Load(ref Unsafe.Add(ref ur, j)), vn), ref Unsafe.Add(ref zr, j));
            }

            for (; j < e; j++)
            {
                Unsafe.Add(ref zr, j) = Unsafe.Add(ref ur, j) / norm;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeBackward<T, TV, TOps>(ReadOnlySpan<T> z, ReadOnlySpan<T> norms, Span<T> dz, int rows, int e, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : struct, ISimd<T, TV>
    {
        int w = TOps.Count;
        for (int r = 0; r < rows; r++)
        {
            ref T zr = ref Unsafe.Add(ref MemoryMarshal.GetReference(z), r * e);
            ref T dr = ref Unsafe.Add(ref MemoryMarshal.GetReference(dz), r * e);
            T dot = T.Zero;
            int j = 0;
            if (e >= w)
            {
                TV acc = default;
                for (; j + w <= e; j += w)
                {
                    acc = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref zr, j)), TOps.Load(ref Unsafe.Add(ref dr, j)), acc);
                }

                dot = TOps.Sum(acc);
            }

            for (; j < e; j++)
            {
                dot += Unsafe.Add(ref zr, j) * Unsafe.Add(ref dr, j);
            }

            T factor = scale / norms[r];
            TV vd = TOps.Broadcast(dot);
            TV vf = TOps.Broadcast(factor);
            for (j = 0; j + w <= e; j += w)
            {
                ref T d = ref Unsafe.Add(ref dr, j);
                TOps.Store(TOps.Multiply(TOps.Subtract(TOps.Load(ref d), TOps.Multiply(TOps.Load(ref Unsafe.Add(ref zr, j)), vd)), vf), ref d);
            }

            for (; j < e; j++)
            {
                ref T d = ref Unsafe.Add(ref dr, j);
                d = (d - Unsafe.Add(ref zr, j) * dot) * factor;
            }
        }
    }
}
