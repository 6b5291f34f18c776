using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Gan;

/// <summary>
/// Scores images with a GAN's ONNX discriminator: adds <c>RealismLogit</c>, the log odds that an image is real, and
/// <c>Realism</c> = sigmoid(logit). Create it with <c>mlContext.Transforms.ScoreRealismGan</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MLImage` (from `LoadImages`, preprocessed as the manifest says), or a known-size vector of Single already in the graph's units (the generator's `Image` column) |
/// | Output column data type | `RealismLogit` and `Realism`: Single |
/// | Exportable to ONNX | No |
///
/// A discriminator is trained against one generator: its realism says how well that generator fools it, not an absolute quality
/// (the Fréchet distance, `mlContext.Data.ComputeFrechetDistance`, compares models). An image column of another type or size is
/// refused when the pipeline is built; an unreadable image fails naming the column and the row.
/// Apply models only from trusted sources. See the sample in `samples/MlNotes.Samples/Gan/GanScenario.cs`.
/// ]]></format>
/// </remarks>
public sealed class GanDiscriminatorEstimator : OnnxEstimatorBase<GanDiscriminatorTransformer>
{
    internal GanDiscriminatorEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static GanDiscriminatorTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        foreach (var (name, value) in new[] { (nameof(options.InputColumnName), o.InputColumnName), (nameof(options.OutputColumnName), o.OutputColumnName), (nameof(options.LogitColumnName), o.LogitColumnName) })
        {
            if (string.IsNullOrEmpty(value))
            {
                ThrowHelper.BadOption(name, $"{name} needs a name.");
            }
        }

        if (o.OutputColumnName == o.LogitColumnName)
        {
            ThrowHelper.BadOption(nameof(options.LogitColumnName), $"The logit and realism columns need two names, got '{o.LogitColumnName}' for both.");
        }

        var config = new GanConfig
        {
            Graph = GanGraph.Discriminator,
            InputColumnName = o.InputColumnName,
            RealismColumnName = o.OutputColumnName,
            LogitColumnName = o.LogitColumnName,
            BatchSize = o.BatchSize,
        };
        var source = new GanModelSource(o.ModelFile, o.ModelBytes, o.ManifestFile, o.ExecutionSettings);
        return new GanDiscriminatorTransformer(GanMapper.Create(env, nameof(GanDiscriminatorEstimator), "gan-discriminator", source, config));
    }

    /// <summary>Options of <see cref="GanDiscriminatorEstimator"/>. The preprocessing comes from the manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The discriminator's JSON manifest. Default: the file beside <see cref="OnnxModelOptions.ModelFile"/> with the extension .json, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The image column. Default: <c>Image</c> (what <c>GenerateImagesGan</c> adds).</summary>
        public string InputColumnName { get; set; } = "Image";

        /// <summary>The realism column, sigmoid(logit). Default: <c>Realism</c>.</summary>
        public string OutputColumnName { get; set; } = "Realism";

        /// <summary>The logit column. Default: <c>RealismLogit</c>.</summary>
        public string LogitColumnName { get; set; } = "RealismLogit";

        /// <summary>Images per ONNX Runtime run. Default: 64.</summary>
        public int BatchSize { get; set; } = 64;
    }
}
