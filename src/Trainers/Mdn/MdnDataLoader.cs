using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Trainers.Mdn;

/// <summary>Reads the feature and label columns of a data view into memory, skipping rows whose label is missing.</summary>
internal static class MdnDataLoader
{
    /// <summary>
    /// Rows with a NaN in the label are skipped and counted in <paramref name="skipped"/>; NaN or infinite features, and infinite labels,
    /// throw naming the column and the row.
    /// </summary>
    public static MdnDataSet Read(IDataView data, DataViewSchema.Column feature, DataViewSchema.Column label, int featureCount, int labelSize, out long skipped)
    {
        var features = new List<float>();
        var labels = new List<float>();
        var rowFeatures = new float[featureCount];
        var rowLabel = new float[labelSize];
        skipped = 0;
        int rows = 0;
        using var cursor = data.GetRowCursor(new[] { feature, label });
        var getFeatures = cursor.GetGetter<VBuffer<float>>(feature);
        ValueGetter<float>? getScalarLabel = labelSize == 1 && label.Type is not VectorDataViewType ? cursor.GetGetter<float>(label) : null;
        ValueGetter<VBuffer<float>>? getVectorLabel = getScalarLabel == null ? cursor.GetGetter<VBuffer<float>>(label) : null;
        VBuffer<float> featureBuffer = default;
        VBuffer<float> labelBuffer = default;
        float scalar = 0;
        long position = -1;
        while (cursor.MoveNext())
        {
            position++;
            if (getScalarLabel != null)
            {
                getScalarLabel(ref scalar);
                rowLabel[0] = scalar;
            }
            else
            {
                getVectorLabel!(ref labelBuffer);
                if (labelBuffer.Length != labelSize)
                {
                    ThrowHelper.SchemaMismatch(nameof(data), label.Name, $"a label vector of {labelSize} values", $"{labelBuffer.Length} values at row {position}");
                }

                labelBuffer.CopyTo(rowLabel);
            }

            bool missing = false;
            for (int j = 0; j < labelSize; j++)
            {
                if (float.IsNaN(rowLabel[j]))
                {
                    missing = true;
                }
                else if (float.IsInfinity(rowLabel[j]))
                {
                    ThrowHelper.BadValue(label.Name, position, $"an infinite value{Slot(labelSize, j)}");
                }
            }

            if (missing)
            {
                skipped++;
                continue;
            }

            getFeatures(ref featureBuffer);
            if (featureBuffer.Length != featureCount)
            {
                ThrowHelper.SchemaMismatch(nameof(data), feature.Name, $"a vector of {featureCount} values", $"{featureBuffer.Length} values at row {position}");
            }

            featureBuffer.CopyTo(rowFeatures);
            for (int j = 0; j < featureCount; j++)
            {
                if (!float.IsFinite(rowFeatures[j]))
                {
                    ThrowHelper.BadValue(feature.Name, position, $"{(float.IsNaN(rowFeatures[j]) ? "NaN" : "an infinite value")} in slot {j}");
                }
            }

            features.AddRange(rowFeatures);
            labels.AddRange(rowLabel);
            rows++;
        }

        return new MdnDataSet(features.ToArray(), labels.ToArray(), rows);
    }

    /// <summary>Mean and scale (population standard deviation, 1 for a constant dimension) of each label dimension.</summary>
    public static (double[] Mean, double[] Scale) Standardization(MdnDataSet data, int labelSize)
    {
        var mean = new double[labelSize];
        var scale = new double[labelSize];
        for (int j = 0; j < labelSize; j++)
        {
            double sum = 0;
            for (int r = 0; r < data.Rows; r++)
            {
                sum += data.Labels[r * labelSize + j];
            }

            mean[j] = sum / data.Rows;
            double squares = 0;
            for (int r = 0; r < data.Rows; r++)
            {
                double e = data.Labels[r * labelSize + j] - mean[j];
                squares += e * e;
            }

            double sd = Math.Sqrt(squares / data.Rows);
            scale[j] = sd > 1e-12 * Math.Max(1, Math.Abs(mean[j])) ? sd : 1;
        }

        return (mean, scale);
    }

    /// <summary>Standardizes the labels in place.</summary>
    public static void Standardize(MdnDataSet data, ReadOnlySpan<double> mean, ReadOnlySpan<double> scale)
    {
        int d = mean.Length;
        for (int r = 0; r < data.Rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                data.Labels[r * d + j] = (float)((data.Labels[r * d + j] - mean[j]) / scale[j]);
            }
        }
    }

    private static string Slot(int size, int slot) => size == 1 ? "" : $" in slot {slot}";
}
