using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Vae;

[assembly: LoadableClass(typeof(VaeAnomalyDetectorTransformer), null, typeof(SignatureLoadModel),
    "MlNotes VAE anomaly detector", VaeAnomalyDetectorTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The transformer of <see cref="VaeAnomalyDetectorEstimator"/>: per image, <c>Score</c> (-ELBO, or -log p(x) with
/// importance samples; higher is more anomalous) and <c>PredictedLabel</c> (true: the score is above the threshold set at
/// <c>Fit</c>, or NaN), the columns <c>mlContext.AnomalyDetection.Evaluate</c> reads. Holds two native sessions: dispose it.
/// </summary>
public sealed class VaeAnomalyDetectorTransformer : VaeTransformer
{
    internal const string LoaderSignature = "MlNotesVaeAnomaly";
    private static readonly VersionInfo s_version = VersionFor("MLNVAEAD", LoaderSignature);

    internal VaeAnomalyDetectorTransformer(VaeMapper mapper)
        : base(mapper)
    {
    }

    internal override OnnxTransformerBase Reopen() => new VaeAnomalyDetectorTransformer(Mapper.Reopen());

    /// <summary>Scores above this are anomalies: the <see cref="ThresholdPercentile"/>-th percentile of the training scores.</summary>
    public float Threshold => Mapper.Config.Threshold;

    /// <summary>The percentile of the training scores the threshold was set at.</summary>
    public double ThresholdPercentile => Mapper.Config.ThresholdPercentile;

    /// <summary>The seed of the noise eps (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    private protected override VersionInfo GetVersionInfo() => s_version;

    private static VaeAnomalyDetectorTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(s_version);
        return new VaeAnomalyDetectorTransformer(VaeMapper.Load(env, nameof(VaeAnomalyDetectorTransformer), ctx));
    }
}
