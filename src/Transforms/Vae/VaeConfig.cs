using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Everything a VAE transformer resolved from its manifests and options; stored field by field in a v2 model zip
/// (<see cref="VaeConfigFormat"/>), as JSON in a v1 one.
/// A null column name means the transformer does not add (or read) that column.
/// </summary>
internal sealed record VaeConfig
{
    private static readonly JsonSerializerOptions s_json = new() { IncludeFields = false };

    /// <summary>The image column (encoder, scorer, anomaly detector).</summary>
    public string? InputColumnName { get; init; }

    /// <summary>The latent column the decoder reads.</summary>
    public string? LatentInputColumnName { get; init; }

    /// <summary>A column of given standard normal noise (latent size x samples), used instead of the seeded noise.</summary>
    public string? NoiseColumnName { get; init; }

    public string? MeanColumnName { get; init; }

    public string? LogVarianceColumnName { get; init; }

    public string? LatentColumnName { get; init; }

    public string? ReconstructionColumnName { get; init; }

    public string? ReconstructionLogLikelihoodColumnName { get; init; }

    public string? KlDivergenceColumnName { get; init; }

    public string? ElboColumnName { get; init; }

    public string? LogLikelihoodColumnName { get; init; }

    public string? ScoreColumnName { get; init; }

    public string? PredictedLabelColumnName { get; init; }

    public string ImageTensorName { get; init; } = "";

    public string MeanTensorName { get; init; } = "";

    public string LogVarianceTensorName { get; init; } = "";

    public string LatentTensorName { get; init; } = "";

    public string LogitsTensorName { get; init; } = "";

    public int LatentSize { get; init; }

    public ImagePreprocessingSettings? Preprocessing { get; init; }

    /// <summary>Latent samples per row in the encoder's <c>Latent</c> column.</summary>
    public int SampleCount { get; init; } = 1;

    /// <summary>K of the importance-sampled log p(x); 0 for none.</summary>
    public int ImportanceSamples { get; init; }

    /// <summary>eps = 0: z is the mean, and every score is deterministic.</summary>
    public bool UseLatentMean { get; init; }

    public int Seed { get; init; }

    public float Threshold { get; init; }

    public double ThresholdPercentile { get; init; }

    public int BatchSize { get; init; }

    /// <summary>The anomaly detector's score; stored from v3 on (older zips score by the negative log-likelihood).</summary>
    public VaeAnomalyScore AnomalyScore { get; init; }

    /// <summary>
    /// True for a model zip of format v1: its seeded noise is keyed by the row's position in the cursor, as it was written.
    /// Today's transformers key it by the upstream row's id. Not stored: the zip's version says it.
    /// </summary>
    [JsonIgnore]
    public bool NoiseKeyedByPosition { get; init; }

    /// <summary>The first problem of settings read back from a model zip against the graphs saved with them, or null.</summary>
    public string? Problem(OnnxModel? encoder, OnnxModel? decoder)
    {
        static int Latent(OnnxModel model, string tensor, bool isInput)
            => (isInput ? model.InputMetadata : model.OutputMetadata).TryGetValue(tensor, out var m) && m.Dimensions.Length == 2 ? m.Dimensions[1] : -1;

        string? encoderProblem = encoder == null ? null : ModelEntry.First(
            ModelEntry.MissingTensor("image tensor", ImageTensorName, encoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("mean tensor", MeanTensorName, encoder.OutputMetadata, "output"),
            ModelEntry.MissingTensor("log-variance tensor", LogVarianceTensorName, encoder.OutputMetadata, "output"),
            Latent(encoder, MeanTensorName, false) != LatentSize || Latent(encoder, LogVarianceTensorName, false) != LatentSize
                ? $"its latent size {LatentSize} is not the encoder's ({Latent(encoder, MeanTensorName, false)})" : null,
            Preprocessing == null ? "it has no preprocessing settings for the encoder" : Preprocessing.Problem());
        string? decoderProblem = decoder == null ? null : ModelEntry.First(
            ModelEntry.MissingTensor("latent tensor", LatentTensorName, decoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("logits tensor", LogitsTensorName, decoder.OutputMetadata, "output"),
            Latent(decoder, LatentTensorName, true) != LatentSize ? $"its latent size {LatentSize} is not the decoder's ({Latent(decoder, LatentTensorName, true)})" : null);
        string?[] columns =
        {
            InputColumnName, LatentInputColumnName, NoiseColumnName, MeanColumnName, LogVarianceColumnName, LatentColumnName, ReconstructionColumnName,
            ReconstructionLogLikelihoodColumnName, KlDivergenceColumnName, ElboColumnName, LogLikelihoodColumnName, ScoreColumnName, PredictedLabelColumnName,
        };
        return ModelEntry.First(
            encoder == null && decoder == null ? "it holds neither an encoder nor a decoder" : null,
            columns.Any(c => c != null && c.Length == 0) ? "one of its column names is empty" : null,
            LatentSize < 1 ? $"its latent size is {LatentSize}, not at least 1" : null,
            BatchSize < 1 ? $"its batch size is {BatchSize}, not at least 1" : null,
            SampleCount < 1 ? $"its sample count is {SampleCount}, not at least 1" : null,
            ImportanceSamples < 0 ? $"its importance samples {ImportanceSamples} are negative" : null,
            !System.Enum.IsDefined(AnomalyScore) ? $"its anomaly score {(int)AnomalyScore} is not one of {string.Join(", ", System.Enum.GetNames<VaeAnomalyScore>())}" : null,
            !float.IsFinite(Threshold) ? $"its anomaly threshold {ModelEntry.Text(Threshold)} is not a finite number" : null,
            !(ThresholdPercentile >= 0 && ThresholdPercentile < 100) ? $"its threshold percentile {ThresholdPercentile.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not in [0, 100)" : null,
            encoderProblem,
            decoderProblem);
    }

    /// <summary>Reads the settings of a v1 model zip.</summary>
    public static VaeConfig? FromJson(string json) => JsonSerializer.Deserialize<VaeConfig>(json, s_json);
}
