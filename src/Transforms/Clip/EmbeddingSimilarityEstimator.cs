using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Clip;

/// <summary>
/// For rows carrying two embeddings (an image's and a caption's, say), adds their cosine similarity times a logit scale: CLIP's
/// <c>logits_per_image</c> for matched rows. Create it with <c>mlContext.Transforms.ComputeEmbeddingSimilarity</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Two vectors of Single of the same size |
/// | Output column data type | Single: logit scale x cosine(a, b); NaN when either vector has a NaN |
/// | Exportable to ONNX | No |
///
/// The sizes are checked when the pipeline is fitted: embeddings from towers of different sizes are an error, not a silent truncation.
/// ]]></format>
/// </remarks>
public sealed class EmbeddingSimilarityEstimator : IEstimator<EmbeddingSimilarityTransformer>
{
    private readonly IHost _host;
    private readonly Options _options;
    private readonly float _logitScale;

    internal EmbeddingSimilarityEstimator(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(EmbeddingSimilarityEstimator));
        _options = options.Clone();
        _logitScale = EmbeddingMath.CheckedLogitScale(options.LogitScale ?? (float)(options.ManifestFile != null ? ModelManifest.Load(options.ManifestFile).LogitScale ?? 1.0 : 1.0));

        if (string.IsNullOrEmpty(options.ColumnNameA) || string.IsNullOrEmpty(options.ColumnNameB) || string.IsNullOrEmpty(options.OutputColumnName))
        {
            ThrowHelper.BadOption(nameof(options.OutputColumnName), "Column names must not be empty.");
        }
    }

    /// <summary>Checks the two embedding columns (present, Single vectors, same size) and returns the transformer.</summary>
    /// <param name="input">Data with both embedding columns (only its schema is read).</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing, not a Single vector, or the two sizes differ.</exception>
    public EmbeddingSimilarityTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var transformer = new EmbeddingSimilarityTransformer(_host, _options.ColumnNameA, _options.ColumnNameB, _options.OutputColumnName, _logitScale);
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    /// <summary>The input columns plus the similarity.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => SchemaShapes.Extend(
        inputSchema,
        new[] { _options.ColumnNameA, _options.ColumnNameB }.Select(name => new ColumnRead(name, SchemaShapes.IsAnySingleVector, "a vector of Single")),
        [new SchemaShape.Column(_options.OutputColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false)]);

    /// <summary>Options of <see cref="EmbeddingSimilarityEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>The first embedding column.</summary>
        public string ColumnNameA { get; set; } = Defaults.ColumnNameA;

        /// <summary>The second embedding column.</summary>
        public string ColumnNameB { get; set; } = Defaults.ColumnNameB;

        /// <summary>The similarity column.</summary>
        public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

        /// <summary>The logit scale. Default: <see cref="ManifestFile"/>'s logit_scale, else 1 (the plain cosine).</summary>
        public float? LogitScale { get; set; }

        /// <summary>A CLIP manifest whose learned logit_scale to use when <see cref="LogitScale"/> is not set.</summary>
        public string? ManifestFile { get; set; }

        internal Options Clone() => (Options)MemberwiseClone();
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The first embedding column.</summary>
        public const string ColumnNameA = "ImageEmbedding";

        /// <summary>The second embedding column.</summary>
        public const string ColumnNameB = "TextEmbedding";

        /// <summary>The similarity column.</summary>
        public const string OutputColumnName = "Similarity";
    }
}
