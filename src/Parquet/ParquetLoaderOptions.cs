using System.Collections.Generic;

namespace MlNotes.Parquet;

/// <summary>Options of <c>LoadFromParquet</c>.</summary>
public sealed class ParquetLoaderOptions
{
    /// <summary>
    /// The top-level Parquet columns to read, in this order; <see langword="null"/> (the default) reads all of them, and then a column
    /// of a type MlNotes cannot map is an error naming it.
    /// </summary>
    public IReadOnlyList<string>? Columns { get; set; }

    /// <summary>
    /// List columns to read as fixed-size vectors (the size a model's input expects), by column name: a row whose list has another
    /// length is an error naming the column, the file, the row and both lengths. A list column not named here is a variable-size vector.
    /// </summary>
    public IReadOnlyDictionary<string, int>? VectorSizes { get; set; }
}
