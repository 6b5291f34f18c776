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
/// <c>Fit</c>, or NaN), the columns <c>mlContext.AnomalyDetection.Evaluate</c> reads. Holds two native sessions (four with
/// the likelihood ratio's background VAE): dispose it.
/// </summary>
public sealed class VaeAnomalyDetectorTransformer : VaeTransformer
{
    internal const string LoaderSignature = "MlNotesVaeAnomaly";
    /// <summary>v3 (0x00010003): the v2 fields, then the anomaly score kind and the background VAE (v1 and v2 zips score by the negative log-likelihood).</summary>
    internal const uint AnomalyScoreVersion = 0x00010003;

    private static readonly VersionInfo s_version = ModelFormat.Version("MLNVAEAD", LoaderSignature, AnomalyScoreVersion);

    internal VaeAnomalyDetectorTransformer(VaeMapper mapper)
        : base(mapper, s_version)
    {
    }

    internal override OnnxTransformerBase Reopen() => new VaeAnomalyDetectorTransformer(Mapper.Reopen());

    /// <summary>Scores above this are anomalies: the <see cref="ThresholdPercentile"/>-th percentile of the training scores.</summary>
    public float Threshold => Mapper.Config.Threshold;

    /// <summary>The percentile of the training scores the threshold was set at.</summary>
    public double ThresholdPercentile => Mapper.Config.ThresholdPercentile;

    /// <summary>What a row is scored by: the negative log-likelihood, its input-complexity correction, or the likelihood ratio.</summary>
    public VaeAnomalyScore AnomalyScore => Mapper.Config.AnomalyScore;

    /// <summary>The seed of the noise eps (the option, else the <c>MLContext</c>'s seed, else 0).</summary>
    public int Seed => Mapper.Config.Seed;

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        base.SaveModel(ctx);
        Mapper.SaveAnomalyFields(ctx);
    }

    private static VaeAnomalyDetectorTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var mapper = VaeMapper.Load(env, nameof(VaeAnomalyDetectorTransformer), ctx, s_version);
        if (ctx.Header.ModelVerWritten >= AnomalyScoreVersion)
        {
            mapper = VaeMapper.LoadAnomalyFields(env, ctx, mapper);
        }

        return new VaeAnomalyDetectorTransformer(mapper);
    }
}
