using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.ML;

namespace MlNotes;

/// <summary>
/// The one place the MlNotes assemblies build their exceptions, in ML.NET's wording: this file is compiled into MlNotes.Transforms
/// and MlNotes.Trainers (their project files link it), so both word an error the same way.
/// </summary>
[StackTraceHidden]
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void MissingColumn(string parameterName, string columnName)
        => throw new ArgumentOutOfRangeException(parameterName, $"Could not find input column '{columnName}'.");

    [DoesNotReturn]
    public static T MissingColumn<T>(string parameterName, string columnName)
        => throw new ArgumentOutOfRangeException(parameterName, $"Could not find input column '{columnName}'.");

    [DoesNotReturn]
    public static void SchemaMismatch(string parameterName, string columnName, string expected, string actual)
        => throw new ArgumentOutOfRangeException(parameterName, $"Schema mismatch for input column '{columnName}': expected {expected}, got {actual}.");

    [DoesNotReturn]
    public static void BadOption(string optionName, string message)
        => throw new ArgumentOutOfRangeException(optionName, message);

    [DoesNotReturn]
    public static T BadOption<T>(string optionName, string message)
        => throw new ArgumentOutOfRangeException(optionName, message);

    /// <summary>Throws <see cref="BadOption(string, string)"/> naming <paramref name="optionName"/> unless <paramref name="ok"/>.</summary>
    public static void CheckOption(bool ok, string optionName, string message)
    {
        if (!ok)
        {
            BadOption(optionName, message);
        }
    }

    /// <summary>A trainer's input value it cannot learn from (NaN, infinite), naming the column and the row.</summary>
    [DoesNotReturn]
    public static void BadValue(string columnName, long row, string what)
        => throw new ArgumentOutOfRangeException(columnName, $"Input column '{columnName}' has {what} at row {row}: MlNotes trainers need finite values.");

    [DoesNotReturn]
    public static void InvalidOperation(string message, Exception? inner = null)
        => throw new InvalidOperationException(message, inner);

    [DoesNotReturn]
    public static T InvalidOperation<T>(string message, Exception? inner = null)
        => throw new InvalidOperationException(message, inner);

    [DoesNotReturn]
    public static void CorruptModel(string message, Exception? inner = null)
        => throw new FormatException(message, inner);

    [DoesNotReturn]
    public static T CorruptModel<T>(string message, Exception? inner = null)
        => throw new FormatException(message, inner);

    [DoesNotReturn]
    public static T NotSupported<T>(string message)
        => throw new NotSupportedException(message);

    /// <summary>The model-zip entry that holds a loader's own fields (its <c>Model.key</c>), for error messages.</summary>
    public static string EntryName(ModelLoadContext ctx, string? stream = null)
    {
        string name = stream ?? ModelLoadContext.ModelStreamName;
        return string.IsNullOrEmpty(ctx.Directory) ? name : ctx.Directory + "/" + name;
    }

    /// <summary>
    /// A saved model whose entry holds something its loader refuses: a <see cref="FormatException"/> naming the zip entry
    /// (<paramref name="stream"/>, or the loader's <c>Model.key</c>) and the problem.
    /// </summary>
    [DoesNotReturn]
    public static void CorruptEntry(ModelLoadContext ctx, string problem, Exception? inner = null, string? stream = null)
        => throw new FormatException($"The model zip entry '{EntryName(ctx, stream)}' is corrupt: {problem}.", inner);

    [DoesNotReturn]
    public static T CorruptEntry<T>(ModelLoadContext ctx, string problem, Exception? inner = null, string? stream = null)
        => throw new FormatException($"The model zip entry '{EntryName(ctx, stream)}' is corrupt: {problem}.", inner);

    /// <summary>Throws <see cref="CorruptEntry(ModelLoadContext, string, Exception?, string?)"/> with <paramref name="problem"/> unless <paramref name="ok"/>.</summary>
    public static void CheckEntry(ModelLoadContext ctx, bool ok, string problem)
    {
        if (!ok)
        {
            CorruptEntry(ctx, problem);
        }
    }
}
