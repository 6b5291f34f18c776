using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Detects anomalies with a VAE: <c>Fit</c> scores the training images (-ELBO, or -log p(x) with importance samples) and
/// sets the threshold at a percentile of those scores; the transformer adds <c>Score</c> and <c>PredictedLabel</c>, the
/// columns <c>mlContext.AnomalyDetection.Evaluate</c> reads. Create it with <c>mlContext.Transforms.DetectAnomaliesVae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | Yes: the threshold is a percentile of the training scores |
/// | Input column data type | `MLImage` (from `LoadImages`), or a known-size vector of Single: the encoder's input as is, channels x height x width (CHW), normalized as the manifest says ((pixel * scale - mean) / std); the likelihood reads it un-normalized, x = value * std + mean, which must be in [0, 1] |
/// | Output column data type | `Score`: Single (higher is more anomalous); `PredictedLabel`: Boolean (true: anomaly) |
/// | Exportable to ONNX | No |
///
/// A row is an anomaly when its score is not at or below the threshold: a NaN score (from NaN pixels) is an anomaly.
/// Training rows with NaN scores are left out of the percentile. For `Evaluate`, the label must be Single (1: anomaly, 0: normal) or a key with 2 values.
/// Scores are seeded as in `ScoreVae`; `UseLatentMean` makes them deterministic. Apply models only from trusted sources.
/// See the sample in `samples/MlNotes.Samples/Vae/VaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class VaeAnomalyDetectorEstimator : IEstimator<VaeAnomalyDetectorTransformer>
{
    private readonly VaeMapper _scoring;

    internal VaeAnomalyDetectorEstimator(IHostEnvironment env, Options options)
    {
        var o = OnnxModelOptions.Copy(env, options);
        VaeScorerEstimator.CheckImportanceSamples(o.ImportanceSamples);
        CheckAnomalyScore(o);
        if (!(o.ThresholdPercentile > 0 && o.ThresholdPercentile < 100))
        {
            ThrowHelper.BadOption(nameof(o.ThresholdPercentile), $"ThresholdPercentile must be strictly between 0 and 100, got {o.ThresholdPercentile}.");
        }

        var config = new VaeConfig
        {
            InputColumnName = o.InputColumnName,
            NoiseColumnName = o.NoiseColumnName,
            ScoreColumnName = o.ScoreColumnName,
            PredictedLabelColumnName = o.PredictedLabelColumnName,
            ImportanceSamples = o.ImportanceSamples,
            UseLatentMean = o.UseLatentMean,
            Seed = VaeMapper.ResolveSeed(env, o.Seed),
            ThresholdPercentile = o.ThresholdPercentile,
            BatchSize = o.BatchSize,
            AnomalyScore = o.AnomalyScore,
        };
        var settings = o.ExecutionSettings;
        var sources = new VaeModelSources(o.ModelFile, o.ModelBytes, o.DecoderModelFile, o.DecoderModelBytes, o.ManifestFile, settings, NeedsEncoder: true, NeedsDecoder: true);
        _scoring = VaeMapper.Create(env, nameof(VaeAnomalyDetectorTransformer), sources, config);
        if (o.AnomalyScore == VaeAnomalyScore.LikelihoodRatio)
        {
            VaeMapper? background = null;
            try
            {
                var backgroundSources = new VaeModelSources(o.BackgroundModelFile, o.BackgroundModelBytes, o.BackgroundDecoderModelFile, o.BackgroundDecoderModelBytes,
                    ManifestFile: null, settings, NeedsEncoder: true, NeedsDecoder: true, OptionPrefix: "Background");
                background = VaeMapper.Create(env, nameof(VaeAnomalyDetectorTransformer) + "Background", backgroundSources, VaeMapper.BackgroundConfig(_scoring.Config));
                _scoring = _scoring.WithBackground(background);
            }
            catch
            {
                background?.Dispose();
                _scoring.Dispose();
                throw;
            }
        }

        // The graphs were opened and checked; each Fit scores on the sessions its live transformers share (OnnxModel.Reopen).
        _scoring.Dispose();
    }

    /// <summary>Scores <paramref name="input"/> and sets the threshold at the configured percentile of its scores.</summary>
    /// <param name="input">The training images (normal ones, or mostly normal).</param>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or of the wrong type.</exception>
    /// <exception cref="InvalidOperationException">No training row has a score that is a number.</exception>
    public VaeAnomalyDetectorTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _scoring.GetOutputSchema(input.Schema);
        using var scoring = _scoring.Reopen();
        var scored = new BatchedDataView(scoring, input);
        var column = scored.Schema[scoring.Config.ScoreColumnName!];
        var scores = new List<float>();
        using (var cursor = scored.GetRowCursor(new[] { column }))
        {
            var getter = cursor.GetGetter<float>(column);
            float score = 0;
            while (cursor.MoveNext())
            {
                getter(ref score);
                if (!float.IsNaN(score))
                {
                    scores.Add(score);
                }
            }
        }

        if (scores.Count == 0)
        {
            ThrowHelper.InvalidOperation("The VAE anomaly detector found no training row with a score that is a number: it cannot set a threshold.");
        }

        float threshold = Percentile(scores, _scoring.Config.ThresholdPercentile);
        // The scoring sessions, one more share each, for the transformer (the using above releases the scoring's).
        return new VaeAnomalyDetectorTransformer(scoring.WithConfig(scoring.Config with { Threshold = threshold }));
    }

    /// <summary>The input columns plus <c>Score</c> and <c>PredictedLabel</c>.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _scoring.GetOutputSchema(inputSchema);

    private static void CheckAnomalyScore(Options o)
    {
        if (!Enum.IsDefined(o.AnomalyScore))
        {
            ThrowHelper.BadOption(nameof(o.AnomalyScore), $"AnomalyScore must be one of {string.Join(", ", Enum.GetNames<VaeAnomalyScore>())}, got {(int)o.AnomalyScore}.");
        }

        bool encoder = o.BackgroundModelFile != null || o.BackgroundModelBytes != null;
        if (o.AnomalyScore == VaeAnomalyScore.LikelihoodRatio && !encoder)
        {
            ThrowHelper.BadOption(nameof(o.BackgroundModelFile), "AnomalyScore LikelihoodRatio needs the background VAE (the same VAE trained on perturbed images): give its encoder as BackgroundModelFile or BackgroundModelBytes.");
        }

        string? given = o.BackgroundModelFile != null ? nameof(o.BackgroundModelFile) : o.BackgroundModelBytes != null ? nameof(o.BackgroundModelBytes)
            : o.BackgroundDecoderModelFile != null ? nameof(o.BackgroundDecoderModelFile) : o.BackgroundDecoderModelBytes != null ? nameof(o.BackgroundDecoderModelBytes) : null;
        if (o.AnomalyScore != VaeAnomalyScore.LikelihoodRatio && given != null)
        {
            ThrowHelper.BadOption(given, $"{given} is read only by AnomalyScore LikelihoodRatio, and AnomalyScore is {o.AnomalyScore}.");
        }
    }

    /// <summary>The percentile by linear interpolation between the closest ranks (NumPy's default).</summary>
    internal static float Percentile(List<float> values, double percentile)
    {
        values.Sort();
        double rank = percentile / 100 * (values.Count - 1);
        int low = (int)Math.Floor(rank), high = (int)Math.Ceiling(rank);
        return (float)(values[low] + ((values[high] - (double)values[low]) * (rank - low)));
    }

    /// <summary>Options of <see cref="VaeAnomalyDetectorEstimator"/>. Unset values come from the manifests.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>Path of the decoder's ONNX model. Default: the one the encoder's manifest names.</summary>
        public string? DecoderModelFile { get; set; }

        /// <summary>The decoder's ONNX model itself.</summary>
        public byte[]? DecoderModelBytes { get; set; }

        /// <summary>The encoder's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The image column: <c>MLImage</c>, or a Single vector of the encoder's input as is (CHW, normalized as the manifest says).</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The anomaly score column (higher is more anomalous).</summary>
        public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

        /// <summary>The predicted label column (Boolean: true for an anomaly).</summary>
        public string PredictedLabelColumnName { get; set; } = Defaults.PredictedLabelColumnName;

        /// <summary>The percentile of the training rows' scores above which a row is an anomaly, in (0, 100).</summary>
        public double ThresholdPercentile { get; set; } = Defaults.ThresholdPercentile;

        /// <summary>
        /// What a row is scored by. Default <see cref="VaeAnomalyScore.NegativeLogLikelihood"/>; <see cref="VaeAnomalyScore.InputComplexity"/>
        /// subtracts the image's PNG length in bits from its negative log-likelihood in bits; <see cref="VaeAnomalyScore.LikelihoodRatio"/>
        /// subtracts the background VAE's (<see cref="BackgroundModelFile"/>).
        /// </summary>
        public VaeAnomalyScore AnomalyScore { get; set; }

        /// <summary>
        /// Path of the background VAE's encoder (the same VAE trained on perturbed images), for <see cref="VaeAnomalyScore.LikelihoodRatio"/>
        /// only; its manifest names its decoder. It must take the same images (preprocessing) and have the same latent size.
        /// </summary>
        public string? BackgroundModelFile { get; set; }

        /// <summary>The background VAE's encoder itself (for <see cref="VaeAnomalyScore.LikelihoodRatio"/> only).</summary>
        public byte[]? BackgroundModelBytes { get; set; }

        /// <summary>Path of the background VAE's decoder. Default: the one its encoder's manifest names.</summary>
        public string? BackgroundDecoderModelFile { get; set; }

        /// <summary>The background VAE's decoder itself.</summary>
        public byte[]? BackgroundDecoderModelBytes { get; set; }

        /// <summary>K of the importance-sampled log p(x); 0 scores by -ELBO, above 0 by -log p(x).</summary>
        public int ImportanceSamples { get; set; }

        /// <summary>The seed of eps. Default: the <c>MLContext</c>'s seed, else 0.</summary>
        public int? Seed { get; set; }

        /// <summary>eps = 0: z is the posterior mean, a deterministic score.</summary>
        public bool UseLatentMean { get; set; }

        /// <summary>A Single vector column (latent size x max(1, K)) of eps to use instead of the seeded draw; null for none.</summary>
        public string? NoiseColumnName { get; set; }

        /// <summary>Images per ONNX Runtime run (the decoder runs images x max(1, K) latents).</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image column.</summary>
        public const string InputColumnName = "Image";

        /// <summary>The anomaly score column.</summary>
        public const string ScoreColumnName = "Score";

        /// <summary>The predicted label column.</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>The percentile of training scores the threshold is set at.</summary>
        public const double ThresholdPercentile = 95;

        /// <summary>Images per run.</summary>
        public const int BatchSize = 64;
    }
}
