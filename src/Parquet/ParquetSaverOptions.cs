namespace MlNotes.Parquet;

/// <summary>Options of <c>SaveAsParquet</c>.</summary>
public sealed class ParquetSaverOptions
{
    /// <summary>The default of <see cref="RowGroupRows"/>.</summary>
    public const int DefaultRowGroupRows = 65_536;

    /// <summary>
    /// Rows per Parquet row group: the writer holds one row group in memory, and a reader of the file (<c>LoadFromParquet</c>)
    /// holds one at a time too. At least 1. Only the visible columns are written, as <c>SaveAsText</c> does.
    /// </summary>
    public int RowGroupRows { get; set; } = DefaultRowGroupRows;
}
