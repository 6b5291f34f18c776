using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// The few vector operations the numeric kernels need, for <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/> and plain scalars alike:
/// a kernel generic over a struct implementing this is compiled once per struct, each call inlined.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <typeparam name="TV">The vector type (T itself for <see cref="Scalar{T}"/>).</typeparam>
internal interface ISimd<T, TV>
    where T : unmanaged, INumber<T>
    where TV : struct
{
    /// <summary>Elements per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Vectors per row of a 4-row matrix-product tile: as many accumulators as the vector registers hold.</summary>
    static abstract int TileVectors { get; }

    static abstract TV Load(ref T source);

    static abstract void Store(TV value, ref T destination);

    static abstract TV Broadcast(T value);

    static abstract TV Add(TV x, TV y);

    static abstract TV Subtract(TV x, TV y);

    static abstract TV Multiply(TV x, TV y);

    static abstract TV Divide(TV x, TV y);

    static abstract TV Sqrt(TV x);

    /// <summary>x y + addend, fused where the element type has the instruction.</summary>
    static abstract TV MultiplyAdd(TV x, TV y, TV addend);

    /// <summary>The larger of each pair (no NaN handling: the kernels see none unless training already diverged).</summary>
    static abstract TV Max(TV x, TV y);

    /// <summary>e^x for float and double elements.</summary>
    static abstract TV Exp(TV x);

    static abstract T Sum(TV x);

    static abstract T MaxAcross(TV x);
}

/// <summary>The operations on <see cref="Vector512{T}"/>: 32 registers, so 16 accumulators in a tile.</summary>
internal readonly struct Simd512<T> : ISimd<T, Vector512<T>>
    where T : unmanaged, INumber<T>
{
    public static int Count => Vector512<T>.Count;

    public static int TileVectors => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ref T source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> x, Vector512<T> y) => x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Subtract(Vector512<T> x, Vector512<T> y) => x - y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Multiply(Vector512<T> x, Vector512<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Divide(Vector512<T> x, Vector512<T> y) => x / y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sqrt(Vector512<T> x) => Vector512.Sqrt(x);

    // The JIT folds the type tests away.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> x, Vector512<T> y, Vector512<T> addend)
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        return x * y + addend;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Max(Vector512<T> x, Vector512<T> y) => Vector512.MaxNative(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp(Vector512<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.Exp(x.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector512.Exp(x.AsDouble()).As<double, T>();
        }

        throw new NotSupportedException($"Simd: no vector exp for {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector512<T> x) => Vector512.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross(Vector512<T> x) => Simd256<T>.MaxAcross(Vector256.MaxNative(x.GetLower(), x.GetUpper()));
}

/// <summary>The operations on <see cref="Vector256{T}"/>: 16 registers without AVX-512, so 8 accumulators in a tile.</summary>
internal readonly struct Simd256<T> : ISimd<T, Vector256<T>>
    where T : unmanaged, INumber<T>
{
    public static int Count => Vector256<T>.Count;

    public static int TileVectors => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ref T source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> x, Vector256<T> y) => x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Subtract(Vector256<T> x, Vector256<T> y) => x - y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Multiply(Vector256<T> x, Vector256<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Divide(Vector256<T> x, Vector256<T> y) => x / y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sqrt(Vector256<T> x) => Vector256.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> x, Vector256<T> y, Vector256<T> addend)
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        return x * y + addend;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Max(Vector256<T> x, Vector256<T> y) => Vector256.MaxNative(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp(Vector256<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.Exp(x.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector256.Exp(x.AsDouble()).As<double, T>();
        }

        throw new NotSupportedException($"Simd: no vector exp for {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector256<T> x) => Vector256.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross(Vector256<T> x)
    {
        T max = x.GetElement(0);
        for (int i = 1; i < Vector256<T>.Count; i++)
        {
            T v = x.GetElement(i);
            max = v > max ? v : max;
        }

        return max;
    }
}

/// <summary>One element at a time: where neither vector width is accelerated, or for element types without a vector exp.</summary>
internal readonly struct Scalar<T> : ISimd<T, T>
    where T : unmanaged, INumber<T>
{
    public static int Count => 1;

    public static int TileVectors => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Load(ref T source) => source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T value, ref T destination) => destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Broadcast(T value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add(T x, T y) => x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Subtract(T x, T y) => x - y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Multiply(T x, T y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Divide(T x, T y) => x / y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sqrt(T x) => T.CreateTruncating(Math.Sqrt(double.CreateTruncating(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MultiplyAdd(T x, T y, T addend) => x * y + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Max(T x, T y) => x > y ? x : y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp(T x)
    {
        if (typeof(T) == typeof(float))
        {
            float e = MathF.Exp(Unsafe.As<T, float>(ref x));
            return Unsafe.As<float, T>(ref e);
        }

        return T.CreateTruncating(Math.Exp(double.CreateTruncating(x)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(T x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross(T x) => x;
}
