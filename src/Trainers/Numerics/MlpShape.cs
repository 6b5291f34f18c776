using System;
using Microsoft.ML;

namespace MlNotes.Trainers.Numerics;

/// <summary>The size of an <see cref="Mlp{T}"/> from its layer sizes, and a loader's reads of its saved layer sizes and parameter vector, checked.</summary>
internal static class MlpShape
{
    /// <summary>The weights and biases of the layers input, hidden..., output: sum over layers of (in + 1) * out, in 64 bits so that a corrupt size cannot wrap around.</summary>
    public static long ParameterCount(int input, int[] hidden, int output)
    {
        long count = 0;
        long previous = input;
        foreach (int size in hidden)
        {
            count += (previous + 1) * size;
            previous = size;
        }

        return count + ((previous + 1) * output);
    }

    /// <summary>Reads <paramref name="count"/> hidden-layer sizes as saved, each checked positive (a corrupt entry names the layer).</summary>
    public static int[] ReadHidden(ModelLoadContext ctx, int count)
    {
        var hidden = new int[count];
        for (int i = 0; i < count; i++)
        {
            hidden[i] = ctx.Reader.ReadInt32();
            ThrowHelper.CheckEntry(ctx, hidden[i] > 0, $"hidden layer {i} has {hidden[i]} units");
        }

        return hidden;
    }

    /// <summary>Refuses an architecture of <paramref name="parameterCount"/> parameters that no array can hold.</summary>
    public static void CheckSize(ModelLoadContext ctx, long parameterCount)
        => ThrowHelper.CheckEntry(ctx, parameterCount <= Array.MaxLength, $"an architecture of {parameterCount} parameters is too large");

    /// <summary>Reads the saved parameter vector: its count must be the network's <paramref name="expected"/>, and every weight finite.</summary>
    public static float[] ReadParameters(ModelLoadContext ctx, int expected)
    {
        int count = ctx.Reader.ReadInt32();
        ThrowHelper.CheckEntry(ctx, count == expected, $"it holds {count} parameters where the architecture has {expected}");
        var parameters = new float[count];
        for (int i = 0; i < count; i++)
        {
            parameters[i] = ctx.Reader.ReadSingle();
            ThrowHelper.CheckEntry(ctx, float.IsFinite(parameters[i]), $"weight {i} is non-finite ({parameters[i]})");
        }

        return parameters;
    }
}
