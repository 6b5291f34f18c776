using System;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace MlNotes.Samples;

/// <summary>Where the samples read the bundled models and data, where they write, and how much they do.</summary>
public sealed class SampleContext
{
    public SampleContext(string repositoryRoot, string outputFolder, bool quick, Action<string>? log = null)
    {
        RepositoryRoot = repositoryRoot;
        OutputFolder = outputFolder;
        Quick = quick;
        var print = log ?? Console.WriteLine;
        Print = print;
        Log = line =>
        {
            print(line);
            Report.Line(line);
        };
        Directory.CreateDirectory(outputFolder);
    }

    public string RepositoryRoot { get; }

    public string OutputFolder { get; }

    /// <summary>A smaller run, for the tests that keep the samples from rotting.</summary>
    public bool Quick { get; }

    /// <summary>Prints a result line and keeps it for the report.</summary>
    public Action<string> Log { get; }

    /// <summary>Prints a progress line (not kept in the report).</summary>
    public Action<string> Print { get; }

    /// <summary>The one-page report the tour writes beside its pictures.</summary>
    public Report.TourReport Report { get; } = new();

    /// <summary>Records a picture the scenario wrote (for the report) and says where it is.</summary>
    public void Picture(string path, string caption)
    {
        Report.Picture(path, caption);
        Log($"wrote {path}: {caption}");
    }

    public string ModelsOnnx => Path.Combine(RepositoryRoot, "models-onnx");

    public string FashionSubset => Path.Combine(ModelsOnnx, "data", "fashion-mnist-subset");

    public string Model(string file) => Path.Combine(ModelsOnnx, file);

    public string[] FashionClasses()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Model("vit-fashion.json")));
        return document.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>The repository root: the first folder above <paramref name="start"/> holding MlNotes.sln.</summary>
    public static string FindRepositoryRoot(string start)
    {
        var dir = new DirectoryInfo(start);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MlNotes.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException($"No MlNotes.sln above {start}: run the samples from the repository.");
    }
}
