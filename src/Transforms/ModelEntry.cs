using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;

namespace MlNotes.Transforms;

/// <summary>
/// The checks loaders run on what they read from a model zip entry: each failure is a <see cref="ThrowHelper.CorruptEntry(ModelLoadContext, string, Exception?, string?)"/>
/// naming the entry and the problem, instead of an exception from deep inside the reader, the JSON serializer or ONNX Runtime.
/// </summary>
internal static class ModelEntry
{
    /// <summary>The problem reported when an entry ends before its loader has read every field.</summary>
    public const string Truncated = "it ends before all its fields were read (the entry is truncated)";

    /// <summary>
    /// True for what a reader throws on an entry that ends early or holds an undecodable value (a string id out of range, a
    /// negative array length): not for the <see cref="FormatException"/> the checks below throw, which already name the entry.
    /// </summary>
    public static bool IsReadFailure(Exception e)
        => e is EndOfStreamException or InvalidDataException
            || (e is FormatException && !e.Message.StartsWith("The model zip entry '", StringComparison.Ordinal));

    /// <summary>Runs a loader's reads of its <c>Model.key</c>; an entry that ends early or does not decode is reported as corrupt.</summary>
    public static T Read<T>(ModelLoadContext ctx, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return ThrowHelper.CorruptEntry<T>(ctx, Truncated + " or holds a value that does not decode", e);
        }
    }

    /// <summary>
    /// Reads <paramref name="count"/> Single values and checks them finite: a non-finite one is reported as
    /// <paramref name="problem"/> says, given its index and value (an entry that ends early is reported as truncated).
    /// </summary>
    public static float[] ReadFiniteSingles(ModelLoadContext ctx, int count, Func<int, float, string> problem)
    {
        var values = new float[count];
        Read(ctx, () =>
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = ctx.Reader.ReadSingle();
            }

            return values;
        });
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0)
        {
            ThrowHelper.CorruptEntry(ctx, problem(bad, values[bad]));
        }

        return values;
    }

    /// <summary>The settings a loader stored as JSON: malformed JSON (the inner exception kept) or a JSON null is corrupt.</summary>
    public static T Json<T>(ModelLoadContext ctx, string what, Func<string, T?> parse)
        where T : class
    {
        string json = Read(ctx, ctx.LoadNonEmptyString);
        T? value;
        try
        {
            value = parse(json);
        }
        catch (JsonException e)
        {
            return ThrowHelper.CorruptEntry<T>(ctx, $"the {what} settings are not valid JSON: {e.Message}", e);
        }

        return value ?? ThrowHelper.CorruptEntry<T>(ctx, $"the {what} settings are the JSON null");
    }

    /// <summary>Reports <paramref name="problem"/> when it is not null (the first problem a settings check found).</summary>
    public static void Check(ModelLoadContext ctx, string? problem)
    {
        if (problem != null)
        {
            ThrowHelper.CorruptEntry(ctx, problem);
        }
    }

    /// <summary>Reports <paramref name="problem"/> when <paramref name="ok"/> is false.</summary>
    public static void Check(ModelLoadContext ctx, bool ok, string problem)
    {
        if (!ok)
        {
            ThrowHelper.CorruptEntry(ctx, problem);
        }
    }

    /// <summary>The first non-finite value of <paramref name="values"/> as "name[i] = value", or null when all are finite.</summary>
    public static string? NonFinite(string name, ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return $"{name}[{i}] is {Text(values[i])}, not a finite number";
            }
        }

        return null;
    }

    /// <summary>Null when the graph has <paramref name="tensor"/>, else the problem naming it and the graph's tensors.</summary>
    public static string? MissingTensor<TValue>(string what, string? tensor, IReadOnlyDictionary<string, TValue> graph, string role)
        => tensor != null && graph.ContainsKey(tensor)
            ? null
            : $"its {what} '{tensor}' is not an {role} of the saved ONNX model (its {role}s: {string.Join(", ", graph.Keys)})";

    /// <summary>A number as messages write it, whatever the culture: NaN, Infinity, -Infinity or the round-trip digits.</summary>
    public static string Text(float value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The first problem of several checks, or null.</summary>
    public static string? First(params string?[] problems) => problems.FirstOrDefault(p => p != null);
}
