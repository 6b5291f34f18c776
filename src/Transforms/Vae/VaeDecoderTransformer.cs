using System;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Vae;

[assembly: LoadableClass(typeof(VaeDecoderTransformer), null, typeof(SignatureLoadModel),
    "MlNotes VAE decoder", VaeDecoderTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The transformer of <see cref="VaeDecoderEstimator"/>: decodes latent vectors in batches into the likelihood's
/// parameters (per-pixel Bernoulli probabilities, with the image's shape), and generates without input rows:
/// <see cref="SampleFromPrior"/> and <see cref="Interpolate"/>. Holds a native session: dispose it.
/// </summary>
public sealed class VaeDecoderTransformer : VaeTransformer
{
    internal const string LoaderSignature = "MlNotesVaeDecoder";
    private static readonly VersionInfo s_version = ModelFormat.Version("MLNVAEDE", LoaderSignature, FieldsVersion);

    internal VaeDecoderTransformer(VaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    internal override OnnxTransformerBase Reopen() => new VaeDecoderTransformer(Mapper.Reopen());

    /// <summary>The latent column the decoder reads.</summary>
    public string InputColumnName => Mapper.Config.LatentInputColumnName!;

    /// <summary>The reconstruction column.</summary>
    public string OutputColumnName => Mapper.Config.ReconstructionColumnName!;

    /// <summary>The reconstruction's shape per row, e.g. (1, 28, 28): channels, height, width.</summary>
    public int[] ReconstructionShape => Mapper.ReconstructionDims.ToArray();

    /// <summary>
    /// <paramref name="count"/> samples from the model: z ~ N(0, I), decoded. A lazy view with the latent column (named as
    /// <see cref="InputColumnName"/>) and the reconstruction; row i's z depends only on <paramref name="seed"/> and i.
    /// </summary>
    /// <param name="count">The number of samples.</param>
    /// <param name="seed">The seed of the latent noise.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public IDataView SampleFromPrior(int count, int seed)
    {
        if (count < 1)
        {
            ThrowHelper.BadOption(nameof(count), $"The number of samples must be at least 1, got {count}.");
        }

        var latents = new float[count][];
        for (int i = 0; i < count; i++)
        {
            latents[i] = new float[LatentSize];
            VaeMath.Gaussian(latents[i], seed, i, 0);
        }

        var builder = new ArrayDataViewBuilder(Mapper.Host);
        builder.AddColumn(InputColumnName, NumberDataViewType.Single, latents);
        return Transform(builder.GetDataView());
    }

    /// <summary>
    /// The straight line from <paramref name="start"/> to <paramref name="end"/> in latent space (say, the <c>LatentMean</c>
    /// of two encoded images), decoded at <paramref name="steps"/> evenly spaced points, ends included. A lazy view with
    /// <c>Alpha</c> (0 at the start, 1 at the end), the latent column and the reconstruction.
    /// </summary>
    /// <param name="start">The first latent vector.</param>
    /// <param name="end">The last latent vector.</param>
    /// <param name="steps">Points on the line, at least 2.</param>
    /// <exception cref="ArgumentOutOfRangeException">A vector is not of the latent size, or <paramref name="steps"/> is less than 2.</exception>
    public IDataView Interpolate(ReadOnlySpan<float> start, ReadOnlySpan<float> end, int steps)
    {
        if (start.Length != LatentSize || end.Length != LatentSize)
        {
            ThrowHelper.BadOption(start.Length != LatentSize ? nameof(start) : nameof(end),
                $"Interpolation needs two latent vectors of {LatentSize} values, got {start.Length} and {end.Length}.");
        }

        if (steps < 2)
        {
            ThrowHelper.BadOption(nameof(steps), $"An interpolation needs at least 2 steps, got {steps}.");
        }

        var alphas = new float[steps];
        var latents = new float[steps][];
        for (int i = 0; i < steps; i++)
        {
            float alpha = alphas[i] = (float)i / (steps - 1);
            latents[i] = new float[LatentSize];
            for (int j = 0; j < LatentSize; j++)
            {
                latents[i][j] = ((1 - alpha) * start[j]) + (alpha * end[j]);
            }
        }

        var builder = new ArrayDataViewBuilder(Mapper.Host);
        builder.AddColumn("Alpha", NumberDataViewType.Single, alphas);
        builder.AddColumn(InputColumnName, NumberDataViewType.Single, latents);
        return Transform(builder.GetDataView());
    }

    private static VaeDecoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(VaeMapper.Load(env, nameof(VaeDecoderTransformer), ctx, s_version));
}
