using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.Gan;

/// <summary>
/// Generates images with a GAN's ONNX generator: one image per row, from noise z ~ N(0, I) drawn from the seed and the row's id
/// (or read from a noise column). Create it with <c>mlContext.Transforms.GenerateImagesGan</c>; its transformer's
/// <see cref="GanGeneratorTransformer.Generate"/> makes n images without input rows.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | None (noise drawn per row), or with `NoiseColumnName` a known-size vector of Single of the noise size |
/// | Output column data type | `Image`: known-size vector of Single with the image's dimensions (channels, height, width), pixels in the generator's range ([0, 1] for the bundled one) |
/// | Exportable to ONNX | No |
///
/// A row's noise is keyed by its `DataViewRowId`, as the VAE's: the same seed gives the same images whatever the batch size, in a
/// shard or a filtered view too. A noise column of another type or size is refused when the pipeline is built.
/// Apply models only from trusted sources. See the sample in `samples/MlNotes.Samples/Gan/GanScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class GanGeneratorEstimator : OnnxEstimatorBase<GanGeneratorTransformer>
{
    internal GanGeneratorEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static GanGeneratorTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        if (string.IsNullOrEmpty(o.OutputColumnName))
        {
            ThrowHelper.BadOption(nameof(options.OutputColumnName), "The image column needs a name.");
        }

        if (o.NoiseColumnName is { Length: 0 })
        {
            ThrowHelper.BadOption(nameof(options.NoiseColumnName), "The noise column's name is empty: give a name, or null to draw the noise.");
        }

        var config = new GanConfig
        {
            Graph = GanGraph.Generator,
            ImageColumnName = o.OutputColumnName,
            NoiseColumnName = o.NoiseColumnName,
            Seed = VaeMapper.ResolveSeed(env, o.Seed),
            BatchSize = o.BatchSize,
        };
        var source = new GanModelSource(o.ModelFile, o.ModelBytes, o.ManifestFile, o.ExecutionSettings);
        return new GanGeneratorTransformer(GanMapper.Create(env, nameof(GanGeneratorEstimator), "gan-generator", source, config));
    }

    /// <summary>Options of <see cref="GanGeneratorEstimator"/>. The noise size comes from the graph (and its manifest's <c>noise_size</c>).</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The generator's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The generated image column. Default: <c>Image</c>.</summary>
        public string OutputColumnName { get; set; } = "Image";

        /// <summary>A column of noise vectors (Single, the noise size) to generate from. Default: null, noise drawn per row from <see cref="Seed"/>.</summary>
        public string? NoiseColumnName { get; set; }

        /// <summary>The seed of the noise. Default: null, the <c>MLContext</c>'s seed (0 when it has none).</summary>
        public int? Seed { get; set; }

        /// <summary>Rows per ONNX Runtime run. Default: 64.</summary>
        public int BatchSize { get; set; } = 64;
    }
}
