using System;
using System.IO;
using System.Linq;
using MlNotes.Serving.Sample;

namespace MlNotes.Serving.Tests;

/// <summary>The committed Fashion-MNIST PNGs (40 of them) and the sample's classifier zip built over a bundled graph.</summary>
internal static class Fashion
{
    private static readonly Lazy<byte[][]> s_images = new(() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "images"), "*.png").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray());

    public static byte[][] Images => s_images.Value;

    /// <summary>Bytes that are not an image.</summary>
    public static byte[] NotAnImage => "this is not a PNG"u8.ToArray();

    public static string ClassifierZip(TempFolder folder, string graph = "vit-fashion")
    {
        string zip = Path.Combine(folder.Path, graph + ".zip");
        if (!File.Exists(zip))
        {
            BundledModels.SaveClassifier(graph, zip);
        }

        return zip;
    }
}

/// <summary>A fresh temporary folder, deleted by <see cref="Dispose"/>.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlnotes-serving-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a finishing host; the folder is under the temp path.
        }
    }
}
