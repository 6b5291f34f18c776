using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Vae;

[assembly: LoadableClass(typeof(VaeEncoderTransformer), null, typeof(SignatureLoadModel),
    "MlNotes VAE encoder", VaeEncoderTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The transformer of <see cref="VaeEncoderEstimator"/>: encodes images in batches into the posterior's mean and
/// log-variance and seeded reparameterized samples. Holds a native session: dispose it.
/// </summary>
public sealed class VaeEncoderTransformer : VaeTransformer
{
    internal const string LoaderSignature = "MlNotesVaeEncoder";
    private static readonly VersionInfo s_version = Version("MLNVAEEN", LoaderSignature);

    internal VaeEncoderTransformer(VaeMapper mapper)
        : base(mapper)
    {
    }

    /// <summary>A new transformer over the same session (one more reference to it), for another <c>Fit</c>: each is disposed on its own.</summary>
    internal VaeEncoderTransformer Share() => new(Mapper.Share());

    /// <summary>The seed of the noise eps (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    /// <summary>Latent samples per row in the latent column.</summary>
    public int SampleCount => Mapper.Config.SampleCount;

    private protected override VersionInfo GetVersionInfo() => s_version;

    private static VaeEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(s_version);
        return new VaeEncoderTransformer(VaeMapper.Load(env, nameof(VaeEncoderTransformer), ctx));
    }
}
