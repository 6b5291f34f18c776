using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// One added column of a batched transformer: its schema entry, what the batch must compute for it (<typeparamref name="TNeeds"/>
/// flags: graph outputs, post-processing), and how a batch makes its getter. One table of them serves the output schema, the
/// choice of what a batch computes and the getters, so no column index is worked out twice.
/// </summary>
/// <typeparam name="TBatch">The family's batch.</typeparam>
/// <typeparam name="TNeeds">The family's flags of what a batch computes.</typeparam>
internal sealed record OutputColumn<TBatch, TNeeds>(DataViewSchema.DetachedColumn Column, TNeeds Needs, Func<TBatch, Func<int>, Delegate> Getter)
    where TNeeds : struct, Enum;

/// <summary>Helpers over a table of <see cref="OutputColumn{TBatch, TNeeds}"/>.</summary>
internal static class OutputColumns
{
    /// <summary>The schema of the added columns, in table order.</summary>
    public static DataViewSchema Schema<TBatch, TNeeds>(IReadOnlyList<OutputColumn<TBatch, TNeeds>> columns)
        where TNeeds : struct, Enum
    {
        var builder = new DataViewSchema.Builder();
        foreach (var c in columns)
        {
            builder.AddColumn(c.Column.Name, c.Column.Type, c.Column.Annotations);
        }

        return builder.ToSchema();
    }

    /// <summary>What a batch computes for the active columns: their needs or-ed together.</summary>
    public static TNeeds Needs<TBatch, TNeeds>(IReadOnlyList<OutputColumn<TBatch, TNeeds>> columns, bool[] activeOutputs)
        where TNeeds : struct, Enum
    {
        ulong needs = 0;
        for (int i = 0; i < columns.Count; i++)
        {
            needs |= activeOutputs[i] ? Convert.ToUInt64(columns[i].Needs, System.Globalization.CultureInfo.InvariantCulture) : 0;
        }

        return (TNeeds)Enum.ToObject(typeof(TNeeds), needs);
    }

    /// <summary>A float vector getter copying the span <paramref name="values"/> gives for the current slot.</summary>
    public static ValueGetter<VBuffer<float>> Vector(FloatRow values) => (ref VBuffer<float> dst) =>
    {
        var row = values();
        var editor = VBufferEditor.Create(ref dst, row.Length);
        row.CopyTo(editor.Values);
        dst = editor.Commit();
    };

    /// <summary>A float vector getter of <paramref name="length"/> values, written by <paramref name="fill"/> for the slot <paramref name="slot"/> gives.</summary>
    public static ValueGetter<VBuffer<float>> Vector(int length, Func<int> slot, Action<int, Span<float>> fill) => (ref VBuffer<float> dst) =>
    {
        var editor = VBufferEditor.Create(ref dst, length);
        fill(slot(), editor.Values);
        dst = editor.Commit();
    };

    /// <summary>The current slot's values.</summary>
    public delegate ReadOnlySpan<float> FloatRow();
}
