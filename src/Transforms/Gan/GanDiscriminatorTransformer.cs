using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Gan;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(GanDiscriminatorTransformer), null, typeof(SignatureLoadModel),
    "MlNotes GAN discriminator", GanDiscriminatorTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Gan;

/// <summary>
/// The transformer of <see cref="GanDiscriminatorEstimator"/>: scores images in batches with a GAN's discriminator, adding its
/// logit and the realism sigmoid(logit). Holds a native session: dispose it.
/// </summary>
public sealed class GanDiscriminatorTransformer : OnnxTransformerBase
{
    internal const string LoaderSignature = "MlNotesGanDiscriminator";

    private static readonly VersionInfo s_version = ModelFormat.Version("MLNGANDI", LoaderSignature);

    internal GanDiscriminatorTransformer(GanMapper mapper)
        : base(mapper, s_version)
        => Mapper = mapper;

    /// <summary>The image column scored.</summary>
    public string InputColumnName => Mapper.Config.InputColumnName!;

    /// <summary>The realism column: sigmoid(logit), the discriminator's probability that the image is real.</summary>
    public string OutputColumnName => Mapper.Config.RealismColumnName!;

    /// <summary>The logit column: the log odds that the image is real.</summary>
    public string LogitColumnName => Mapper.Config.LogitColumnName!;

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    internal GanMapper Mapper { get; }

    internal override OnnxTransformerBase Reopen() => new GanDiscriminatorTransformer(Mapper.Reopen());

    private static GanDiscriminatorTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(GanMapper.Load(env, nameof(GanDiscriminatorTransformer), ctx, s_version, GanGraph.Discriminator));
}
