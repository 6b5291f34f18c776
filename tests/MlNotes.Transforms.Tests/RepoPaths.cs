using System;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace MlNotes.Transforms.Tests;

/// <summary>The repository's models-onnx folder (graphs, manifests, fixtures, data), found from the test binaries.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MlNotes.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"No MlNotes.sln above {AppContext.BaseDirectory}.");
    });

    /// <summary>The repository's root (the folder of MlNotes.sln).</summary>
    public static string Root => s_root.Value;

    public static string ModelsOnnx => Path.Combine(s_root.Value, "models-onnx");

    public static string Model(string name) => Path.Combine(ModelsOnnx, name);

    public static string FashionSubset => Path.Combine(ModelsOnnx, "data", "fashion-mnist-subset");

    /// <summary>A number from models-onnx/metrics.json, e.g. ("vit", "subset_accuracy").</summary>
    public static double Metric(string graph, string name)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(ModelsOnnx, "metrics.json")));
        return document.RootElement.GetProperty(graph).GetProperty(name).GetDouble();
    }

    public static string[] FashionClasses()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Model("vit-fashion.json")));
        return document.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }
}
