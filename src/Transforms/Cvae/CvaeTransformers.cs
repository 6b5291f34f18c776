using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Cvae;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(CvaeGeneratorTransformer), null, typeof(SignatureLoadModel), "MlNotes CVAE generator", CvaeGeneratorTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(CvaeScorerTransformer), null, typeof(SignatureLoadModel), "MlNotes CVAE scorer", CvaeScorerTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(CvaeClassifierTransformer), null, typeof(SignatureLoadModel), "MlNotes CVAE classifier", CvaeClassifierTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Cvae;

/// <summary>
/// What the CVAE transformers share beyond <see cref="OnnxTransformerBase"/>: the conditional VAE's graphs (the decoder, and the
/// encoder but for generation), its classes and latent size.
/// </summary>
public abstract class CvaeTransformer : OnnxTransformerBase
{
    private protected CvaeTransformer(CvaeMapper mapper, VersionInfo version)
        : base(mapper, version)
        => Mapper = mapper;

    /// <summary>The size of the latent vector.</summary>
    public int LatentSize => Mapper.Config.LatentSize;

    /// <summary>The class names (the manifest's labels), in class-index order.</summary>
    public IReadOnlyList<string> ClassNames => Mapper.Config.ClassNames;

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    internal CvaeMapper Mapper { get; }

    // The format of the three CVAE transformers, v1 (0x00010001, ModelFormat.First): the config field by field (CvaeConfig),
    // seeded noise keyed by the upstream row's id.
}

/// <summary>
/// The transformer of <see cref="CvaeGeneratorEstimator"/>: per row an image of the row's class, decoded from z ~ N(0, I) seeded
/// by the row's id (or a noise column). Holds a native session: dispose it.
/// </summary>
public sealed class CvaeGeneratorTransformer : CvaeTransformer
{
    internal const string LoaderSignature = "MlNotesCvaeGenerator";
    private static readonly VersionInfo s_version = ModelFormat.Version("MLNCVAEG", LoaderSignature);

    internal CvaeGeneratorTransformer(CvaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    /// <summary>The seed of z (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    internal override OnnxTransformerBase Reopen() => new CvaeGeneratorTransformer(Mapper.Reopen());

    private static CvaeGeneratorTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(CvaeMapper.Load(env, nameof(CvaeGeneratorTransformer), ctx, s_version));
}

/// <summary>
/// The transformer of <see cref="CvaeScorerEstimator"/>: per (image, label) the conditional ELBO, its reconstruction
/// log-likelihood and KL, in nats. Holds two native sessions: dispose it.
/// </summary>
public sealed class CvaeScorerTransformer : CvaeTransformer
{
    internal const string LoaderSignature = "MlNotesCvaeScorer";
    private static readonly VersionInfo s_version = ModelFormat.Version("MLNCVAES", LoaderSignature);

    internal CvaeScorerTransformer(CvaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    /// <summary>The seed of eps (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    /// <summary>True when z is the posterior mean (eps = 0): the scores are deterministic.</summary>
    public bool UseLatentMean => Mapper.Config.UseLatentMean;

    internal override OnnxTransformerBase Reopen() => new CvaeScorerTransformer(Mapper.Reopen());

    private static CvaeScorerTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(CvaeMapper.Load(env, nameof(CvaeScorerTransformer), ctx, s_version));
}

/// <summary>
/// The transformer of <see cref="CvaeClassifierEstimator"/>: the generative classifier, P(c | x) by Bayes' rule from the
/// class-conditional ELBOs and the class priors, as <c>Score</c> and <c>PredictedLabel</c>. Holds two native sessions: dispose it.
/// </summary>
public sealed class CvaeClassifierTransformer : CvaeTransformer
{
    internal const string LoaderSignature = "MlNotesCvaeClassifier";
    private static readonly VersionInfo s_version = ModelFormat.Version("MLNCVAEC", LoaderSignature);

    internal CvaeClassifierTransformer(CvaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    /// <summary>The class priors P(c) used (normalized to sum 1), in class-index order.</summary>
    public IReadOnlyList<double> ClassPriors => System.Array.ConvertAll(Mapper.Config.LogPriors, v => System.Math.Exp(v));

    internal override OnnxTransformerBase Reopen() => new CvaeClassifierTransformer(Mapper.Reopen());

    private static CvaeClassifierTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(CvaeMapper.Load(env, nameof(CvaeClassifierTransformer), ctx, s_version));
}
