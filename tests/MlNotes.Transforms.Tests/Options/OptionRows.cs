using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Tests.Options;

/// <summary>Small input rows for the option cases: each with an <c>Alt</c> column of the same type and other values, so that an input-column option can be pointed at it.</summary>
internal static class OptionRows
{
    public static float[][] Random(int rows, int size, int seed, double scale = 1, double offset = 0)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, size).Select(_ => (float)((random.NextDouble() * scale) + offset)).ToArray()).ToArray();
    }

    public static IDataView Load<T>(MLContext ml, T[] rows, params (string Column, int Size)[] sizes)
        where T : class
    {
        var schema = SchemaDefinition.Create(typeof(T));
        foreach (var (column, size) in sizes)
        {
            schema[column].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        }

        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    public sealed class ScoringRow
    {
        public float[] a { get; set; } = Array.Empty<float>();

        public float[] Alt { get; set; } = Array.Empty<float>();

        public double[] b { get; set; } = Array.Empty<double>();

        public int[] c { get; set; } = Array.Empty<int>();

        public long[] d { get; set; } = Array.Empty<long>();

        public bool[] m { get; set; } = Array.Empty<bool>();
    }

    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";

        public string Alt { get; set; } = "";
    }

    public sealed class TextRow
    {
        public string Text { get; set; } = "";

        public string Alt { get; set; } = "";
    }

    public sealed class PixelRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public float[] Alt { get; set; } = Array.Empty<float>();

        public float[] Noise { get; set; } = Array.Empty<float>();
    }

    public sealed class LatentRow
    {
        public float[] Latent { get; set; } = Array.Empty<float>();

        public float[] Alt { get; set; } = Array.Empty<float>();
    }

    public sealed class TowerRow
    {
        public float[] A { get; set; } = Array.Empty<float>();

        public float[] B { get; set; } = Array.Empty<float>();

        public float[] AltA { get; set; } = Array.Empty<float>();

        public float[] AltB { get; set; } = Array.Empty<float>();
    }

    public sealed class PairRow
    {
        public float[] A { get; set; } = Array.Empty<float>();

        public float[] B { get; set; } = Array.Empty<float>();

        public float[] Alt { get; set; } = Array.Empty<float>();
    }

    public sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public float[] Alt { get; set; } = Array.Empty<float>();

        public string Key { get; set; } = "";
    }
}
