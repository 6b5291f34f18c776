using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Samples;

/// <summary>The engine alone: any ONNX graph scored in batches, saved inside an ML.NET model zip, reloaded.</summary>
public static class ScoringScenario
{
    public static void Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string model = context.Model("vit-fashion.onnx");
        var random = new Random(1);
        int count = context.Quick ? 256 : 4_096;
        var images = Enumerable.Range(0, count)
            .Select(i => new ImageInput { Id = i, image = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray() })
            .ToArray();
        IDataView data = ml.Data.LoadFromEnumerable(images);

        using var scorer = ml.Transforms.ApplyOnnxModelBatched(model, outputColumnNames: new[] { "logits" }, batchSize: 128).Fit(data);
        var watch = Stopwatch.StartNew();
        var scored = ml.Data.CreateEnumerable<ImageOutput>(scorer.Transform(data), reuseRowObject: false).ToArray();
        watch.Stop();
        context.Log($"Scored {scored.Length:N0} rows in batches of {scorer.BatchSize} on {scorer.ExecutionProvider}: {scored.Length / watch.Elapsed.TotalSeconds:N0} rows/s.");

        string zip = Path.Combine(context.OutputFolder, "scoring-model.zip");
        ml.Model.Save(scorer, data.Schema, zip);
        using var loaded = (IDisposable)new MLContext().Model.Load(zip, out _);
        var again = ml.Data.CreateEnumerable<ImageOutput>(((ITransformer)loaded).Transform(data), reuseRowObject: false).ToArray();
        bool same = scored.Zip(again).All(p => p.First.logits.SequenceEqual(p.Second.logits));
        context.Log($"Saved to {zip} ({new FileInfo(zip).Length:N0} bytes, the ONNX graph inside); reloaded in a fresh MLContext: outputs identical = {same}.");
        if (!same)
        {
            throw new InvalidOperationException("The reloaded model scored differently.");
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
