using System;
using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Quality;

/// <summary>
/// The Fréchet distance between two sets of embeddings, each summarized as a Gaussian (mean, covariance): the FID of
/// Heusel et al. 2017 when the embeddings are an Inception network's, here any embedding column (the bundled ViT's).
/// d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
/// </summary>
internal static class FrechetDistance
{
    /// <summary>The distance between the embeddings of <paramref name="columnName"/> in two views.</summary>
    public static double Compute(IDataView a, IDataView b, string columnName)
    {
        var (meanA, covA) = Moments(Read(a, columnName, "real"));
        var (meanB, covB) = Moments(Read(b, columnName, "generated"));
        if (meanA.Count != meanB.Count)
        {
            ThrowHelper.SchemaMismatch(nameof(b), columnName, $"embeddings of {meanA.Count} values, as in the real view", $"{meanB.Count} values");
        }

        return Distance(meanA, covA, meanB, covB);
    }

    /// <summary>The distance between two Gaussians. (S_a S_b)^(1/2) is not symmetric; its trace equals that of the symmetric
    /// (S_a^(1/2) S_b S_a^(1/2))^(1/2), whose eigenvalues a symmetric eigendecomposition gives stably (negative rounding clipped to 0).</summary>
    public static double Distance(Vector<double> meanA, Matrix<double> covA, Vector<double> meanB, Matrix<double> covB)
    {
        var rootA = SymmetricRoot(covA);
        var middle = rootA * covB * rootA;
        middle = (middle + middle.Transpose()) * 0.5;
        double traceRoot = 0;
        foreach (var lambda in middle.Evd(Symmetricity.Symmetric).EigenValues)
        {
            traceRoot += Math.Sqrt(Math.Max(lambda.Real, 0));
        }

        var diff = meanA - meanB;
        return diff.DotProduct(diff) + covA.Trace() + covB.Trace() - (2 * traceRoot);
    }

    /// <summary>The mean and the unbiased covariance (divided by n - 1, as NumPy's <c>cov</c>) of the rows.</summary>
    public static (Vector<double> Mean, Matrix<double> Covariance) Moments(Matrix<double> rows)
    {
        var mean = rows.ColumnSums() / rows.RowCount;
        var centered = rows.Clone();
        for (int i = 0; i < rows.RowCount; i++)
        {
            centered.SetRow(i, rows.Row(i) - mean);
        }

        return (mean, centered.TransposeThisAndMultiply(centered) / (rows.RowCount - 1));
    }

    private static Matrix<double> SymmetricRoot(Matrix<double> symmetric)
    {
        var evd = symmetric.Evd(Symmetricity.Symmetric);
        var roots = Vector<double>.Build.Dense(evd.EigenValues.Count, i => Math.Sqrt(Math.Max(evd.EigenValues[i].Real, 0)));
        return evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(roots) * evd.EigenVectors.Transpose();
    }

    private static Matrix<double> Read(IDataView view, string columnName, string which)
    {
        ArgumentNullException.ThrowIfNull(view, which);
        var column = view.Schema.GetColumnOrNull(columnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(which, columnName);
        }

        int size = column.Value.Type is VectorDataViewType { ItemType: var item, Size: > 0 and var n } && item == NumberDataViewType.Single ? n
            : ThrowHelper.BadOption<int>(which, $"Schema mismatch for input column '{columnName}': expected a known-size vector of Single (an embedding), got {column.Value.Type}.");

        var rows = new List<double[]>();
        using var cursor = view.GetRowCursor(new[] { column.Value });
        var getter = cursor.GetGetter<VBuffer<float>>(column.Value);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            var row = new double[size];
            int j = 0;
            foreach (float v in value.DenseValues())
            {
                if (!float.IsFinite(v))
                {
                    ThrowHelper.InvalidOperation($"Column '{columnName}' of the {which} view at row position {cursor.Position}: value {j} is {v}; the Fréchet distance needs finite embeddings.");
                }

                row[j++] = v;
            }

            rows.Add(row);
        }

        if (rows.Count < 2)
        {
            ThrowHelper.InvalidOperation($"The {which} view has {rows.Count} row(s) in column '{columnName}': a covariance needs at least 2.");
        }

        return Matrix<double>.Build.DenseOfRowArrays(rows);
    }
}
