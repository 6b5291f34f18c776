using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Vae;

[assembly: LoadableClass(typeof(VaeScorerTransformer), null, typeof(SignatureLoadModel),
    "MlNotes VAE scorer", VaeScorerTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The transformer of <see cref="VaeScorerEstimator"/>: per image, the reconstruction log-likelihood, the KL to the prior,
/// the ELBO and optionally an importance-sampled log p(x), in nats, scored in batches through both graphs.
/// Holds two native sessions: dispose it.
/// </summary>
public sealed class VaeScorerTransformer : VaeTransformer
{
    internal const string LoaderSignature = "MlNotesVaeScorer";
    private static readonly VersionInfo s_version = ModelFormat.Version("MLNVAESC", LoaderSignature, FieldsVersion);

    internal VaeScorerTransformer(VaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    internal override OnnxTransformerBase Reopen() => new VaeScorerTransformer(Mapper.Reopen());

    /// <summary>The seed of the noise eps (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    /// <summary>K of the importance-sampled log p(x); 0 when it is not computed.</summary>
    public int ImportanceSamples => Mapper.Config.ImportanceSamples;

    /// <summary>True when z is the posterior mean (eps = 0): every score is deterministic.</summary>
    public bool UseLatentMean => Mapper.Config.UseLatentMean;

    private static VaeScorerTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(VaeMapper.Load(env, nameof(VaeScorerTransformer), ctx, s_version));
}
