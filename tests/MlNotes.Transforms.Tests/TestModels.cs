using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace MlNotes.Transforms.Tests;

/// <summary>The small graphs under TestModels/ and their PyTorch reference rows (expected.json).</summary>
internal static class TestModels
{
    private static readonly Lazy<JsonDocument> s_expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path("expected.json"))));

    public static string Mlp => Path("mlp.onnx");

    public static string VitSmall => Path("vit_small.onnx");

    public static string MultiIo => Path("multi_io.onnx");

    public static string VarLen => Path("varlen.onnx");

    public static string Path(string file) => System.IO.Path.Combine(AppContext.BaseDirectory, "TestModels", file);

    public static Tensor Input(string graph, string name) => Read(graph, "inputs", name);

    public static Tensor Output(string graph, string name) => Read(graph, "outputs", name);

    /// <summary>A fresh temporary folder, deleted by <see cref="IDisposable.Dispose"/>.</summary>
    public static TempFolder TempFolder() => new();

    private static Tensor Read(string graph, string kind, string name)
    {
        var element = s_expected.Value.RootElement.GetProperty(graph).GetProperty(kind).GetProperty(name);
        var shape = element.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var data = element.GetProperty("data").EnumerateArray().Select(e => e.ValueKind switch
        {
            JsonValueKind.True => 1.0,
            JsonValueKind.False => 0.0,
            _ => e.GetDouble(),
        }).ToArray();
        return new Tensor(element.GetProperty("dtype").GetString()!, shape, data);
    }

    /// <summary>A fixture tensor: values as doubles (exact for every float32, int32 and the small int64 used).</summary>
    public sealed record Tensor(string DType, int[] Shape, double[] Data)
    {
        public int RowLength => Data.Length / Shape[0];

        public IEnumerable<double> Row(int row) => Data.Skip(row * RowLength).Take(RowLength);

        public float[] FloatRow(int row) => Row(row).Select(v => (float)v).ToArray();
    }
}

internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        FullPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlnotes-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(FullPath);
    }

    public string FullPath { get; }

    public string File(string name) => System.IO.Path.Combine(FullPath, name);

    public void Dispose() => Directory.Delete(FullPath, recursive: true);
}
