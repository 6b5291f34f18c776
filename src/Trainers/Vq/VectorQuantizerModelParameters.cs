using System;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNotes.Trainers.Vq;

[assembly: LoadableClass(typeof(VectorQuantizerModelParameters), null, typeof(SignatureLoadModel),
    "MlNotes vector quantizer", VectorQuantizerModelParameters.LoaderSignature)]

namespace MlNotes.Trainers.Vq;

/// <summary>
/// A trained codebook: maps a vector to its squared Euclidean distances to the K codes (<c>Score</c>); the clustering scorer adds the
/// nearest code as <c>PredictedLabel</c> (a key of K values). Produced by <see cref="VectorQuantizerTrainer"/>, with the usage of the
/// codes over the training vectors.
/// </summary>
public sealed class VectorQuantizerModelParameters : ModelParametersBase<VBuffer<float>>, IValueMapper
{
    internal const string LoaderSignature = "MlNotesVectorQuantizer";

    private readonly float[] _codes;
    private readonly float[] _norms;
    private readonly long[] _counts;

    internal VectorQuantizerModelParameters(IHostEnvironment env, int codebookSize, int dimension, float[] codes, long[] trainingCounts, int reinitialized)
        : base(env, LoaderSignature)
    {
        CodebookSize = codebookSize;
        Dimension = dimension;
        _codes = codes;
        _counts = trainingCounts;
        ReinitializedCodes = reinitialized;
        _norms = Norms(codes, codebookSize, dimension);
    }

    private VectorQuantizerModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx)
    {
        var reader = ctx.Reader;
        CodebookSize = reader.ReadInt32();
        Dimension = reader.ReadInt32();
        ThrowHelper.CheckEntry(ctx, CodebookSize is > 0 and <= VectorQuantizerTrainer.Defaults.MaxCodebookSize && Dimension > 0 && (long)CodebookSize * Dimension <= Array.MaxLength,
            $"sizes {CodebookSize} (codes) and {Dimension} (dimension), where there must be 1 to {VectorQuantizerTrainer.Defaults.MaxCodebookSize} codes of at least one value");
        _codes = new float[CodebookSize * Dimension];
        for (int i = 0; i < _codes.Length; i++)
        {
            _codes[i] = reader.ReadSingle();
            ThrowHelper.CheckEntry(ctx, float.IsFinite(_codes[i]), $"value {i % Dimension} of code {i / Dimension} is non-finite ({_codes[i]})");
        }

        _counts = new long[CodebookSize];
        for (int k = 0; k < CodebookSize; k++)
        {
            _counts[k] = reader.ReadInt64();
            ThrowHelper.CheckEntry(ctx, _counts[k] >= 0, $"the training count of code {k} is negative ({_counts[k]})");
        }

        ReinitializedCodes = reader.ReadInt32();
        ThrowHelper.CheckEntry(ctx, ReinitializedCodes >= 0, $"the number of re-initialized codes is negative ({ReinitializedCodes})");
        _norms = Norms(_codes, CodebookSize, Dimension);
    }

    /// <summary>K, the number of codes.</summary>
    public int CodebookSize { get; }

    /// <summary>D, the size of the vectors and codes.</summary>
    public int Dimension { get; }

    /// <summary>The codes' usage over the training vectors, after training: counts, share of codes used, perplexity.</summary>
    public CodebookUsageMetrics TrainingUsage => new((long[])_counts.Clone());

    /// <summary>How many times training moved a dead code onto a vector of its batch.</summary>
    public int ReinitializedCodes { get; }

    /// <summary>Clustering.</summary>
    protected override PredictionKind PredictionKind => PredictionKind.Clustering;

    DataViewType IValueMapper.InputType => new VectorDataViewType(NumberDataViewType.Single, Dimension);

    DataViewType IValueMapper.OutputType => new VectorDataViewType(NumberDataViewType.Single, CodebookSize);

    /// <summary>A copy of the codebook, one array of <see cref="Dimension"/> values per code.</summary>
    /// <returns>The K code vectors.</returns>
    public float[][] GetCodebook()
    {
        var codes = new float[CodebookSize][];
        for (int k = 0; k < CodebookSize; k++)
        {
            codes[k] = _codes.AsSpan(k * Dimension, Dimension).ToArray();
        }

        return codes;
    }

    /// <summary>The index (0-based) of the code nearest to <paramref name="vector"/>; ties go to the lower index.</summary>
    /// <param name="vector">A vector of <see cref="Dimension"/> values.</param>
    /// <returns>The code's index.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The vector does not have <see cref="Dimension"/> values.</exception>
    public int Quantize(ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension)
        {
            ThrowHelper.BadOption(nameof(vector), $"The vector has {vector.Length} values where the codebook's codes have {Dimension}.");
        }

        return EmaCodebook.Nearest(_codes, _norms, Dimension, vector, out _);
    }

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(VBuffer<float>))
        {
            ThrowHelper.InvalidOperation($"A vector quantizer maps VBuffer<Single> to VBuffer<Single>, not {typeof(TIn).Name} to {typeof(TOut).Name}.");
        }

        var dense = new float[Dimension];
        ValueMapper<VBuffer<float>, VBuffer<float>> map = (in VBuffer<float> src, ref VBuffer<float> dst) =>
        {
            if (src.Length != Dimension)
            {
                ThrowHelper.InvalidOperation($"Incorrect number of features: expected {Dimension}, got {src.Length}.");
            }

            src.CopyTo(dense);
            float xx = TensorPrimitives.Dot<float>(dense, dense);
            var editor = VBufferEditor.Create(ref dst, CodebookSize);
            for (int k = 0; k < CodebookSize; k++)
            {
                // The order of EmaCodebook.Nearest's arithmetic, so that PredictedLabel (the smallest Score) is the code Quantize picks.
                editor.Values[k] = Math.Max(0, (_norms[k] - 2 * TensorPrimitives.Dot(_codes.AsSpan(k * Dimension, Dimension), dense)) + xx);
            }

            dst = editor.Commit();
        };
        return (ValueMapper<TIn, TOut>)(Delegate)map;
    }

    /// <summary>Writes the sizes, the codes, the training counts and the re-initialization count.</summary>
    /// <param name="ctx">The save context.</param>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());
        var writer = ctx.Writer;
        writer.Write(CodebookSize);
        writer.Write(Dimension);
        foreach (float v in _codes)
        {
            writer.Write(v);
        }

        foreach (long c in _counts)
        {
            writer.Write(c);
        }

        writer.Write(ReinitializedCodes);
    }

    // Found by ML.NET's ComponentCatalog through the LoadableClass attribute above; differs in visibility from the constructor, as the catalog requires.
    internal static VectorQuantizerModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        return new VectorQuantizerModelParameters(env, ctx);
    }

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNVQMOD", LoaderSignature);

    private static float[] Norms(float[] codes, int k, int d)
    {
        var norms = new float[k];
        for (int i = 0; i < k; i++)
        {
            norms[i] = TensorPrimitives.Dot(codes.AsSpan(i * d, d), codes.AsSpan(i * d, d));
        }

        return norms;
    }
}
