using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Samples;

/// <summary>
/// The tour. For now one scenario: batched ONNX scoring of a small ViT-shaped graph, saved and reloaded.
/// The model-family scenarios join as their issues land.
/// </summary>
internal static class Program
{
    private static int Main()
    {
        var ml = new MLContext(seed: 1);
        string model = Path.Combine(AppContext.BaseDirectory, "models", "vit_small.onnx");
        var random = new Random(1);
        var images = Enumerable.Range(0, 2_000)
            .Select(i => new ImageInput { Id = i, image = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray() })
            .ToArray();
        IDataView data = ml.Data.LoadFromEnumerable(images);

        var pipeline = ml.Transforms.ApplyOnnxModelBatched(model, outputColumnNames: new[] { "logits" }, batchSize: 128);
        using var scorer = pipeline.Fit(data);
        var watch = Stopwatch.StartNew();
        var scored = ml.Data.CreateEnumerable<ImageOutput>(scorer.Transform(data), reuseRowObject: false).ToArray();
        watch.Stop();
        Console.WriteLine($"Scored {scored.Length} images in batches of {scorer.BatchSize} on {scorer.ExecutionProvider}: " +
            $"{scored.Length / watch.Elapsed.TotalSeconds:N0} rows/s.");

        string zip = Path.Combine(Path.GetTempPath(), $"mlnotes-demo-{Environment.ProcessId}.zip");
        try
        {
            ml.Model.Save(scorer, data.Schema, zip);
            using var loaded = (IDisposable)new MLContext().Model.Load(zip, out _);
            var again = ml.Data.CreateEnumerable<ImageOutput>(((ITransformer)loaded).Transform(data), reuseRowObject: false).ToArray();
            bool same = scored.Zip(again).All(p => p.First.logits.SequenceEqual(p.Second.logits));
            Console.WriteLine($"Saved to a model zip ({new FileInfo(zip).Length:N0} bytes, ONNX inside), reloaded: outputs identical = {same}.");
            Console.WriteLine($"First row: class {Array.IndexOf(scored[0].logits, scored[0].logits.Max())} (random weights: the graph tests plumbing, not accuracy).");
            return same ? 0 : 1;
        }
        finally
        {
            File.Delete(zip);
        }
    }

    private sealed class ImageInput
    {
        public int Id { get; set; }

        [VectorType(1, 28, 28)]
        public float[] image { get; set; } = Array.Empty<float>();
    }

    private sealed class ImageOutput
    {
        public int Id { get; set; }

        [VectorType(10)]
        public float[] logits { get; set; } = Array.Empty<float>();
    }
}
