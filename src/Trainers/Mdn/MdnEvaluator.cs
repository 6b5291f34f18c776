using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// Computes <see cref="MdnMetrics"/> from the label and the mixture columns of scored data. The likelihood is computed from the
/// log-weights column when the data has it (an MDN's output does), else from log(weight): a weight that underflowed to 0 in Single then
/// drops its component from the likelihood. CRPS, coverage and PIT use the weights (a weight that underflowed to 0 was below 1.4e-45, and changes them by less than that).
/// </summary>
internal static class MdnEvaluator
{
    public static MdnMetrics Evaluate(IDataView data, string labelColumnName, double intervalCoverage, int pitBins)
    {
        if (intervalCoverage is <= 0 or >= 1)
        {
            ThrowHelper.BadOption(nameof(intervalCoverage), $"intervalCoverage must be in (0, 1), got {intervalCoverage}.");
        }

        if (pitBins < 1)
        {
            ThrowHelper.BadOption(nameof(pitBins), $"pitBins must be at least 1, got {pitBins}.");
        }

        var schema = data.Schema;
        var label = Find(schema, labelColumnName);
        var weightsColumn = Find(schema, MdnColumnNames.MixtureWeights);
        var logWeightsColumn = schema.GetColumnOrNull(MdnColumnNames.MixtureLogWeights);
        var meansColumn = Find(schema, MdnColumnNames.MixtureMeans);
        var sigmasColumn = Find(schema, MdnColumnNames.MixtureStandardDeviations);
        int components = weightsColumn.Type.GetVectorSize();
        int labelSize = label.Type is VectorDataViewType v ? v.Size : 1;
        if (components < 1 || meansColumn.Type.GetVectorSize() != components * labelSize || sigmasColumn.Type.GetVectorSize() != components * labelSize)
        {
            ThrowHelper.SchemaMismatch(nameof(data), MdnColumnNames.MixtureMeans, $"vectors of K x {labelSize} values next to {MdnColumnNames.MixtureWeights} (K)",
                $"{meansColumn.Type} and {sigmasColumn.Type} next to {weightsColumn.Type}");
        }

        if (logWeightsColumn is { } logColumn && (logColumn.Type is not VectorDataViewType { ItemType: NumberDataViewType } logType
            || logType.ItemType != NumberDataViewType.Single || logType.Size != components))
        {
            ThrowHelper.SchemaMismatch(nameof(data), MdnColumnNames.MixtureLogWeights, $"a vector of {components} Single next to {MdnColumnNames.MixtureWeights} ({components})",
                $"{logColumn.Type}");
        }

        if (label.Type.GetItemType() != NumberDataViewType.Single)
        {
            ThrowHelper.SchemaMismatch(nameof(data), labelColumnName, "Single or a vector of Single", $"{label.Type}");
        }

        var read = new List<DataViewSchema.Column> { label, weightsColumn, meansColumn, sigmasColumn };
        if (logWeightsColumn is { } log)
        {
            read.Add(log);
        }

        using var cursor = data.GetRowCursor(read);
        ValueGetter<float>? scalarLabel = label.Type is VectorDataViewType ? null : cursor.GetGetter<float>(label);
        ValueGetter<VBuffer<float>>? vectorLabel = scalarLabel == null ? cursor.GetGetter<VBuffer<float>>(label) : null;
        var getWeights = cursor.GetGetter<VBuffer<float>>(weightsColumn);
        var getMeans = cursor.GetGetter<VBuffer<float>>(meansColumn);
        var getSigmas = cursor.GetGetter<VBuffer<float>>(sigmasColumn);
        var getLogWeights = logWeightsColumn is { } logWeights ? cursor.GetGetter<VBuffer<float>>(logWeights) : null;
        VBuffer<float> buffer = default;
        var y = new double[labelSize];
        var weights = new double[components];
        var logs = new double[components];
        var means = new double[components * labelSize];
        var sigmas = new double[components * labelSize];
        var pits = new List<double>();
        double nll = 0;
        double crps = 0;
        long covered = 0;
        long rows = 0;
        long skipped = 0;
        float scalar = 0;
        while (cursor.MoveNext())
        {
            if (scalarLabel != null)
            {
                scalarLabel(ref scalar);
                y[0] = scalar;
            }
            else
            {
                vectorLabel!(ref buffer);
                Copy(buffer, y);
            }

            if (y.Any(double.IsNaN))
            {
                skipped++;
                continue;
            }

            getWeights(ref buffer);
            Copy(buffer, weights);
            getMeans(ref buffer);
            Copy(buffer, means);
            getSigmas(ref buffer);
            Copy(buffer, sigmas);
            if (getLogWeights != null)
            {
                getLogWeights(ref buffer);
                Copy(buffer, logs);
            }
            else
            {
                for (int c = 0; c < components; c++)
                {
                    logs[c] = Math.Log(weights[c]);
                }
            }

            nll -= GaussianMixture.LogDensity(logs, means, sigmas, y);
            for (int d = 0; d < labelSize; d++)
            {
                crps += GaussianMixture.Crps(weights, means, sigmas, labelSize, d, y[d]);
                double lower = GaussianMixture.Quantile(weights, means, sigmas, labelSize, d, (1 - intervalCoverage) / 2);
                double upper = GaussianMixture.Quantile(weights, means, sigmas, labelSize, d, (1 + intervalCoverage) / 2);
                if (y[d] >= lower && y[d] <= upper)
                {
                    covered++;
                }

                pits.Add(GaussianMixture.Cdf(weights, means, sigmas, labelSize, d, y[d]));
            }

            rows++;
        }

        if (rows == 0)
        {
            ThrowHelper.InvalidOperation(skipped > 0 ? $"Every one of the {skipped} rows has a NaN label: nothing to evaluate." : "The data to evaluate is empty.");
        }

        var histogram = new double[pitBins];
        foreach (double pit in pits)
        {
            histogram[Math.Min(pitBins - 1, (int)(pit * pitBins))] += 1.0 / pits.Count;
        }

        pits.Sort();
        double ks = 0;
        for (int i = 0; i < pits.Count; i++)
        {
            ks = Math.Max(ks, Math.Max(Math.Abs((i + 1.0) / pits.Count - pits[i]), Math.Abs((double)i / pits.Count - pits[i])));
        }

        return new MdnMetrics(nll / rows, crps / (rows * labelSize), (double)covered / (rows * labelSize), intervalCoverage, histogram, ks, rows, skipped);
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name)
    {
        return schema.GetColumnOrNull(name) ?? ThrowHelper.MissingColumn<DataViewSchema.Column>("data", name);
    }

    /// <summary>A row's mixture column (weights, means, deviations, labels) into <paramref name="destination"/>, in double; its length must match.</summary>
    internal static void Copy(in VBuffer<float> source, double[] destination)
    {
        if (source.Length != destination.Length)
        {
            ThrowHelper.InvalidOperation($"A mixture column has {source.Length} values in a row where {destination.Length} were expected.");
        }

        int i = 0;
        foreach (float value in source.DenseValues())
        {
            destination[i++] = value;
        }
    }
}
