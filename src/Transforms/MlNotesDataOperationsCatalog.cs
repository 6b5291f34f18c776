using System;
using MlNotes.Transforms.Quality;

namespace Microsoft.ML;

/// <summary>MlNotes' additions to <c>mlContext.Data</c>.</summary>
public static class MlNotesDataOperationsCatalog
{
    /// <summary>
    /// The Fréchet distance between the embeddings of real and generated images: each set summarized by its mean and covariance,
    /// d^2 = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)) (the FID of Heusel et al. 2017, in the embedding space given:
    /// the bundled ViT's <c>Embedding</c> from <c>ClassifyImageOnnx</c>, say). 0 for identical sets; lower is closer.
    /// </summary>
    /// <param name="catalog">The data operations catalog.</param>
    /// <param name="real">The real images' view.</param>
    /// <param name="generated">The generated images' view.</param>
    /// <param name="columnName">The embedding column of both views: a known-size vector of Single, the same size in both.</param>
    /// <returns>The squared Fréchet distance (what FID reports), in the embedding's units squared.</returns>
    /// <remarks>The covariances are unbiased (n - 1) and computed in double; the matrix square root comes from Math.NET Numerics'
    /// symmetric eigendecomposition. The distance is biased upwards for small sets: compare models on sets of the same size.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A view lacks the column, or it is not a known-size Single vector, or the sizes differ.</exception>
    /// <exception cref="InvalidOperationException">A view has fewer than 2 rows, or an embedding holds a NaN or an infinity (the message names the view and the row).</exception>
    public static double ComputeFrechetDistance(this DataOperationsCatalog catalog, IDataView real, IDataView generated, string columnName = "Embedding")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(columnName);
        return FrechetDistance.Compute(real, generated, columnName);
    }
}
