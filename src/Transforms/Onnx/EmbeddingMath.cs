using System;
using System.Numerics.Tensors;

namespace MlNotes.Transforms.Onnx;

/// <summary>The vector operations embedding models share.</summary>
internal static class EmbeddingMath
{
    /// <summary>The logit scale the cosine similarities are multiplied by, refused (as the option <c>LogitScale</c>) unless positive and finite.</summary>
    public static float CheckedLogitScale(float scale)
    {
        if (!(scale > 0) || !float.IsFinite(scale))
        {
            ThrowHelper.BadOption("LogitScale", $"LogitScale must be a positive finite number, got {scale}.");
        }

        return scale;
    }

    /// <summary>Divides <paramref name="vector"/> by its L2 norm in place (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> vector)
    {
        float norm = MathF.Sqrt(TensorPrimitives.SumOfSquares(vector));
        TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);
    }

    /// <summary>The cosine of the angle between two vectors of the same length (0 when either is zero).</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float norms = MathF.Sqrt(TensorPrimitives.SumOfSquares(a) * TensorPrimitives.SumOfSquares(b));
        return TensorPrimitives.Dot(a, b) / Math.Max(norms, 1e-12f);
    }
}
