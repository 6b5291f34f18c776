using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// Draws samples from the mixture an MDN predicts for each row. Create it with
/// <see cref="MlNotesTrainersCatalog.SampleFromMixture(TransformsCatalog, string, int, int)"/> and append it after the MDN trainer.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `MixtureWeights` (K), `MixtureMeans` and `MixtureStandardDeviations` (K x D): known-size vectors of Single |
/// | Output column data type | Known-size vector of Single: S samples x D, sample-major |
/// | Exportable to ONNX | No |
///
/// Each row's draws depend only on the seed and the row's `DataViewRowId` (its identity in the source view, which filters, `SkipRows`
/// and `TakeRows` keep), so a transform is reproducible, also after save and load, and a shard, a filtered view or a resumed run draws
/// for each row what one full run draws. Models saved by the first format (v1) keep drawing by the row's position in the view.
/// A `PredictionEngine` numbers its calls 0, 1, 2, ... as row ids: its n-th call draws what `Transform` draws for the row of id n,
/// a fresh engine starts over, and the same input given twice gets different draws; use `Transform` for draws tied to rows.
/// ]]></format>
/// </remarks>
public sealed class MdnSamplingEstimator : IEstimator<MdnSamplingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly Options _options;

    internal MdnSamplingEstimator(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _env = env;
        _options = options.Clone();
        MdnSamplingTransformer.Validate(_options);
    }

    /// <summary>Returns the transformer after checking the input columns.</summary>
    /// <param name="input">Data with the mixture columns of an MDN.</param>
    /// <returns>The transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A mixture column is missing or mistyped.</exception>
    public MdnSamplingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var transformer = new MdnSamplingTransformer(_env, _options);
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    /// <summary>The input schema plus the samples column.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A mixture column is missing or is not a vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = new System.Collections.Generic.Dictionary<string, SchemaShape.Column>();
        foreach (var column in inputSchema)
        {
            columns[column.Name] = column;
        }

        foreach (string name in new[] { _options.WeightsColumnName, _options.MeansColumnName, _options.StandardDeviationsColumnName })
        {
            if (!inputSchema.TryFindColumn(name, out var column))
            {
                ThrowHelper.MissingColumn(nameof(inputSchema), name);
            }

            if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
            {
                ThrowHelper.SchemaMismatch(nameof(inputSchema), name, "a known-size vector of Single", column.GetTypeString());
            }
        }

        columns[_options.OutputColumnName] = new SchemaShape.Column(_options.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }

    /// <summary>Options of <see cref="MdnSamplingEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>The column of samples to add.</summary>
        public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

        /// <summary>S, the draws per row.</summary>
        public int NumberOfSamples { get; set; } = Defaults.NumberOfSamples;

        /// <summary>Seed of the draws (combined with each row's <see cref="DataViewRowId"/>).</summary>
        public int Seed { get; set; }

        /// <summary>The mixture weights (K).</summary>
        public string WeightsColumnName { get; set; } = MdnColumnNames.MixtureWeights;

        /// <summary>The component means (K x D).</summary>
        public string MeansColumnName { get; set; } = MdnColumnNames.MixtureMeans;

        /// <summary>The component standard deviations (K x D).</summary>
        public string StandardDeviationsColumnName { get; set; } = MdnColumnNames.MixtureStandardDeviations;

        internal Options Clone() => (Options)MemberwiseClone();
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>"Samples".</summary>
        public const string OutputColumnName = "Samples";

        /// <summary>100 draws per row.</summary>
        public const int NumberOfSamples = 100;
    }
}
