using Microsoft.ML;
using MlNotes.Transforms.Onnx;
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
    private static readonly VersionInfo s_version = ModelFormat.Version("MLNVAEEN", LoaderSignature, FieldsVersion);

    internal VaeEncoderTransformer(VaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    internal override OnnxTransformerBase Reopen() => new VaeEncoderTransformer(Mapper.Reopen());

    /// <summary>The seed of the noise eps (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    /// <summary>Latent samples per row in the latent column.</summary>
    public int SampleCount => Mapper.Config.SampleCount;

    private static VaeEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(VaeMapper.Load(env, nameof(VaeEncoderTransformer), ctx, s_version));
}
