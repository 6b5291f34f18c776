namespace MlNotes.Trainers.Numerics;

/// <summary>The size of an <see cref="Mlp{T}"/> from its layer sizes, for a loader's check of a saved parameter vector.</summary>
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
}
