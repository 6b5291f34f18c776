using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MlNotes.Transforms.Onnx;

/// <summary>An upstream column an estimator reads: its name, which shapes it accepts, and what the error says it expected.</summary>
internal readonly record struct ColumnRead(string Column, Func<SchemaShape.Column, bool> Accepts, string Expected);

/// <summary>An upstream column a mapper reads: its name, which column types it accepts, and what the error says it expected.</summary>
internal readonly record struct ColumnTypeRead(string Column, Func<DataViewType, bool> Accepts, string Expected);

/// <summary>
/// What every estimator's <c>GetOutputSchema(SchemaShape)</c> does: each column read must be in the input and of an accepted
/// shape (else ML.NET's missing-column or schema-mismatch error, naming the column), then the added columns replace or follow.
/// </summary>
internal static class SchemaShapes
{
    /// <summary>The input columns with <paramref name="added"/> set over them, after checking every read column.</summary>
    public static SchemaShape Extend(SchemaShape inputSchema, IEnumerable<ColumnRead> reads, IEnumerable<SchemaShape.Column> added)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var read in reads)
        {
            if (!columns.TryGetValue(read.Column, out var shape))
            {
                ThrowHelper.MissingColumn(nameof(inputSchema), read.Column);
            }

            if (!read.Accepts(shape))
            {
                ThrowHelper.SchemaMismatch(nameof(inputSchema), read.Column, read.Expected, shape.GetTypeString());
            }
        }

        foreach (var column in added)
        {
            columns[column.Name] = column;
        }

        return new SchemaShape(columns.Values);
    }

    /// <summary>
    /// A mapper's input check (its <c>GetOutputSchema(DataViewSchema)</c>): each column read must be in <paramref name="schema"/> and
    /// of an accepted type, else ML.NET's missing-column or schema-mismatch error, naming the column.
    /// </summary>
    public static void Check(DataViewSchema schema, IEnumerable<ColumnTypeRead> reads)
    {
        foreach (var read in reads)
        {
            var column = schema.GetColumnOrNull(read.Column);
            if (column == null)
            {
                ThrowHelper.MissingColumn(nameof(schema), read.Column);
            }

            var type = column.Value.Type;
            if (!read.Accepts(type))
            {
                ThrowHelper.SchemaMismatch(nameof(schema), read.Column, read.Expected, $"{type}");
            }
        }
    }

    /// <summary>The input columns followed by <paramref name="added"/> (a later column of the same name hides an earlier one).</summary>
    public static DataViewSchema Append(DataViewSchema inputSchema, DataViewSchema added)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumns(added);
        return builder.ToSchema();
    }

    /// <summary>What an image model's image column may be: an image, a path (text), encoded image bytes, or a pixel vector (Byte or Single).</summary>
    public static ColumnRead ImageRead(string column) => new(column, image => image.ItemType is ImageDataViewType
        || (image.Kind == SchemaShape.Column.VectorKind.Scalar && image.ItemType is TextDataViewType)
        || (image.Kind != SchemaShape.Column.VectorKind.Scalar && (image.ItemType == NumberDataViewType.Byte || image.ItemType == NumberDataViewType.Single)),
        "an image, encoded image bytes or a pixel vector");

    /// <summary>A vector of Single of <paramref name="size"/> values, or of unknown size when <paramref name="orUnknown"/>.</summary>
    public static bool IsSingleVector(DataViewType type, int size, bool orUnknown)
        => type is VectorDataViewType { ItemType: var item, Size: var n } && item == NumberDataViewType.Single && (n == size || (orUnknown && n == 0));

    /// <summary>An <c>MLImage</c>, or a Single pixel vector of <paramref name="pixels"/> values (or of unknown size).</summary>
    public static bool IsImageOrPixels(DataViewType type, int pixels) => type is ImageDataViewType || IsSingleVector(type, pixels, orUnknown: true);

    /// <summary>The shapes of the columns in <paramref name="added"/> (a schema of the added columns alone).</summary>
    public static IEnumerable<SchemaShape.Column> Of(DataViewSchema added) => SchemaShape.Create(added);

    /// <summary>The shapes of <paramref name="added"/> columns.</summary>
    public static IEnumerable<SchemaShape.Column> Of(IEnumerable<DataViewSchema.DetachedColumn> added)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(added);
        return SchemaShape.Create(builder.ToSchema());
    }

    /// <summary>A known-size vector of Single.</summary>
    public static bool IsSingleVector(SchemaShape.Column shape)
        => shape.Kind == SchemaShape.Column.VectorKind.Vector && shape.ItemType == NumberDataViewType.Single;

    /// <summary>A vector of Single, of known size or not.</summary>
    public static bool IsAnySingleVector(SchemaShape.Column shape)
        => shape.Kind != SchemaShape.Column.VectorKind.Scalar && shape.ItemType == NumberDataViewType.Single;

    /// <summary>An <c>MLImage</c>, or a known-size vector of Single pixels.</summary>
    public static bool IsImageOrPixels(SchemaShape.Column shape) => shape.ItemType is ImageDataViewType || IsSingleVector(shape);
}
