using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.Cvae;

/// <summary>
/// Generates an image per row for the row's class with a conditional VAE's ONNX decoder: z ~ N(0, I) seeded per row, decoded
/// with the label into per-pixel Bernoulli probabilities. Create it with <c>mlContext.Transforms.GenerateCvae</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | The label: a class index (Int32, Int64, UInt32, or an integral Single) in [0, classes - 1], or a key over the classes (key k is class k - 1); optionally a noise column, a known-size vector of Single of the latent size |
/// | Output column data type | `GeneratedImage`: known-size vector of Single with the image's dimensions (channels, height, width), sigmoid(logits) in [0, 1] |
/// | Exportable to ONNX | No |
///
/// z is drawn per (seed, upstream row id), so a row's image repeats across runs, batch sizes, Save/Load, shards and filtered
/// views (a PredictionEngine's n-th call is row id n). A missing label (key 0, NaN) or one outside the classes throws,
/// naming the column, the row and the value. The classes are the manifest's `labels` (the manifest is required).
/// Apply models only from trusted sources. See the sample in `samples/MlNotes.Samples/Cvae/CvaeScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class CvaeGeneratorEstimator : OnnxEstimatorBase<CvaeGeneratorTransformer>
{
    internal CvaeGeneratorEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static CvaeGeneratorTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        var config = new CvaeConfig
        {
            Mode = CvaeMode.Generate,
            LabelColumnName = o.LabelColumnName,
            GeneratedImageColumnName = o.OutputColumnName,
            NoiseColumnName = o.NoiseColumnName,
            Seed = VaeMapper.ResolveSeed(env, o.Seed),
            BatchSize = o.BatchSize,
        };
        var sources = new VaeModelSources(null, null, o.ModelFile, o.ModelBytes, o.ManifestFile, o.ExecutionSettings, NeedsEncoder: true, NeedsDecoder: true);
        return new CvaeGeneratorTransformer(CvaeMapper.Create(env, nameof(CvaeGeneratorTransformer), sources, config, null));
    }

    /// <summary>Options of <see cref="CvaeGeneratorEstimator"/>: <see cref="OnnxModelOptions.ModelFile"/> is the decoder.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The decoder's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The label column: the class of each generated image.</summary>
        public string LabelColumnName { get; set; } = Defaults.LabelColumnName;

        /// <summary>The generated image column.</summary>
        public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

        /// <summary>A Single vector column (the latent size) of z to decode instead of the seeded draw; null for none.</summary>
        public string? NoiseColumnName { get; set; }

        /// <summary>The seed of z. Default: the <c>MLContext</c>'s seed, else 0.</summary>
        public int? Seed { get; set; }

        /// <summary>Rows per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The label column.</summary>
        public const string LabelColumnName = "Label";

        /// <summary>The generated image column.</summary>
        public const string OutputColumnName = "GeneratedImage";

        /// <summary>Rows per run.</summary>
        public const int BatchSize = 64;
    }
}
