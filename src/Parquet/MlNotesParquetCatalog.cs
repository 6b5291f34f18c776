using System;
using System.IO;
using MlNotes.Parquet;

namespace Microsoft.ML;

/// <summary>Parquet in and out of ML.NET: <c>mlContext.Data.LoadFromParquet</c> and <c>mlContext.Data.SaveAsParquet</c>.</summary>
public static class MlNotesParquetCatalog
{
    /// <summary>
    /// A Parquet file, or a folder of <c>*.parquet</c> files read in name order, as a lazy data view that streams one row group at a
    /// time (memory bounded by one row group of the columns a cursor reads). Numeric and bool columns map to their ML.NET types,
    /// strings to Text (image paths), binary to a variable-size vector of Byte (image bytes), lists to vectors.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="path">A Parquet file or a folder of them.</param>
    /// <exception cref="NotSupportedException">A column of a type that has no ML.NET mapping: its name and type are in the message.</exception>
    public static IDataView LoadFromParquet(this DataOperationsCatalog catalog, string path)
        => LoadFromParquet(catalog, path, new ParquetLoaderOptions());

    /// <summary>A Parquet file or folder as a data view, with the columns to read and the sizes of fixed-size vectors.</summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="path">A Parquet file or a folder of them.</param>
    /// <param name="options">The columns to read and the fixed vector sizes.</param>
    public static IDataView LoadFromParquet(this DataOperationsCatalog catalog, string path, ParquetLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new ParquetDataView(path, new ParquetLoaderOptions { Columns = options.Columns, VectorSizes = options.VectorSizes });
    }

    /// <summary>Writes the visible columns of <paramref name="data"/> to <paramref name="stream"/> as Parquet, streaming by row group.</summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="data">The rows to write.</param>
    /// <param name="stream">Where to write; left open.</param>
    /// <returns>The number of rows written.</returns>
    /// <exception cref="NotSupportedException">A column of a type Parquet output does not take (an image, a text vector): its name and type are in the message.</exception>
    public static long SaveAsParquet(this DataOperationsCatalog catalog, IDataView data, Stream stream)
        => SaveAsParquet(catalog, data, stream, new ParquetSaverOptions());

    /// <summary>Writes <paramref name="data"/> to <paramref name="stream"/> as Parquet with the given row group size.</summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="data">The rows to write.</param>
    /// <param name="stream">Where to write; left open.</param>
    /// <param name="options">Rows per row group.</param>
    /// <returns>The number of rows written.</returns>
    public static long SaveAsParquet(this DataOperationsCatalog catalog, IDataView data, Stream stream, ParquetSaverOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return ParquetSaver.Save(data, stream, new ParquetSaverOptions { RowGroupRows = options.RowGroupRows });
    }
}
