using System.Text.Json;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Everything a VAE transformer resolved from its manifests and options; stored as JSON in the model zip.
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

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static VaeConfig? FromJson(string json) => JsonSerializer.Deserialize<VaeConfig>(json, s_json);
}
