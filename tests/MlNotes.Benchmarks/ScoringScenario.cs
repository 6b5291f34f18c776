using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Onnx;

namespace MlNotes.Benchmarks;

/// <summary>
/// Rows/s of ML.NET's ApplyOnnxModel, raw ONNX Runtime on pre-batched tensors, and MlNotes' batched scorer,
/// side by side in one process, on (a) an MLP 256-1024-256 and (b) a small ViT (28x28x1, patch 7, dim 64, 4 layers).
/// </summary>
internal sealed class ScoringScenario : IScenario
{
    private static readonly int[] s_batchSizes = { 1, 8, 32, 128 };

    public string Name => "scoring";

    public string Description => "batched ONNX scoring vs ApplyOnnxModel and raw ONNX Runtime (-- scoring [rows] [repeats])";

    public int Run(string[] args)
    {
        int rows = args.Length > 0 ? int.Parse(args[0]) : 8192;
        int repeats = args.Length > 1 ? int.Parse(args[1]) : 3;
        string folder = Path.Combine(AppContext.BaseDirectory, "TestModels");
        Console.WriteLine($"Scoring benchmark: {rows} rows per measurement, best of {repeats}, {Environment.ProcessorCount} cores.");
        Console.WriteLine();

        var mlp = Measure("a: MLP 256-1024-256", Path.Combine(folder, "mlp.onnx"), "x", "y", new[] { 256 }, rows, repeats);
        var vit = Measure("b: small ViT 28x28", Path.Combine(folder, "vit_small.onnx"), "image", "logits", new[] { 1, 28, 28 }, rows, repeats);

        foreach (var result in new[] { mlp, vit })
        {
            result.Print();
        }

        // mlnotes_vs_ort: MlNotes against raw ORT at the same batch size, single cursor (the engine's own overhead);
        // mlnotes_vs_applyonnx: MlNotes' best setting against ApplyOnnxModel's best setting.
        var (bestBatch, bestSingle) = vit.MlNotes.MaxBy(kv => kv.Value);
        double vsOrt = bestSingle / vit.Raw[bestBatch];
        double vsApply = vit.BestMlNotes / vit.ApplyOnnx.Values.Max();
        Console.WriteLine($"Graph b: best single-cursor MlNotes batch {bestBatch} at {bestSingle:N0} rows/s (raw ORT at batch {bestBatch}: {vit.Raw[bestBatch]:N0}); " +
            $"MlNotes with 2 cursors: {vit.MlNotesParallel:N0}; best ApplyOnnxModel: {vit.ApplyOnnx.Values.Max():N0}.");
        Console.WriteLine($"RESULT scoring mlnotes_vs_ort={vsOrt:F2} mlnotes_vs_applyonnx={vsApply:F2}");
        return 0;
    }

    private static GraphResult Measure(string title, string model, string inputName, string outputName, int[] dims, int rowCount, int repeats)
    {
        int width = dims.Aggregate(1, (a, d) => a * d);
        var random = new Random(42);
        var values = Enumerable.Range(0, rowCount).Select(_ => Enumerable.Range(0, width).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Input"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dims);
        schema["Input"].ColumnName = inputName;
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(values.Select(v => new Row { Input = v }), schema));
        Throughput.Drain<VBuffer<float>>(data, inputName); // fill the cache once, outside the timings
        var result = new GraphResult(title, rowCount);

        using (var apply = ml.Transforms.ApplyOnnxModel(outputName, inputName, model).Fit(data))
        {
            result.ApplyOnnx["default threads"] = Throughput.Best(repeats, rowCount, () => Throughput.Drain<VBuffer<float>>(apply.Transform(data), outputName));
        }

        using (var apply = ml.Transforms.ApplyOnnxModel(new OnnxOptions
        {
            ModelFile = model,
            InputColumns = new[] { inputName },
            OutputColumns = new[] { outputName },
            IntraOpNumThreads = 1,
        }).Fit(data))
        {
            result.ApplyOnnx["IntraOp=1"] = Throughput.Best(repeats, rowCount, () => Throughput.Drain<VBuffer<float>>(apply.Transform(data), outputName));
            result.ApplyOnnx["IntraOp=1, 2 cursors"] = Throughput.Best(repeats, rowCount, () => Throughput.DrainParallel(apply.Transform(data), outputName, 2));
        }

        using (var session = new InferenceSession(model))
        {
            foreach (int batch in s_batchSizes)
            {
                result.Raw[batch] = Throughput.Best(repeats, rowCount, () => RawRuns(session, inputName, outputName, values, dims, batch));
            }
        }

        foreach (int batch in s_batchSizes)
        {
            using var scorer = ml.Transforms.ApplyOnnxModelBatched(model, outputColumnNames: new[] { outputName }, batchSize: batch).Fit(data);
            result.MlNotes[batch] = Throughput.Best(repeats, rowCount, () => Throughput.Drain<VBuffer<float>>(scorer.Transform(data), outputName));
        }

        // Two cursors, one ONNX Runtime thread each, every cursor batching its own rows (the same shape as ApplyOnnxModel's best setting).
        using (var parallel = ml.Transforms.ApplyOnnxModelBatched(new MlNotes.Transforms.Onnx.OnnxScoringEstimator.Options
        {
            ModelFile = model,
            OutputColumnNames = new[] { outputName },
            BatchSize = 128,
            IntraOpNumThreads = 1,
        }).Fit(data))
        {
            result.MlNotesParallel = Throughput.Best(repeats, rowCount, () => Throughput.DrainParallel(parallel.Transform(data), outputName, 2));
        }

        return result;
    }

    // The floor: tensors packed before the clock starts, one Run per batch, nothing else.
    private static void RawRuns(InferenceSession session, string inputName, string outputName, float[][] values, int[] dims, int batch)
    {
        int width = values[0].Length;
        var packed = new List<(OrtValue Value, float[] Buffer)>();
        for (int start = 0; start < values.Length; start += batch)
        {
            int n = Math.Min(batch, values.Length - start);
            var buffer = new float[n * width];
            for (int i = 0; i < n; i++)
            {
                values[start + i].CopyTo(buffer, i * width);
            }

            var shape = new long[] { n }.Concat(dims.Select(d => (long)d)).ToArray();
            packed.Add((OrtValue.CreateTensorValueFromMemory(buffer, shape), buffer));
        }

        var watch = Stopwatch.StartNew();
        using var options = new RunOptions();
        var names = new[] { inputName };
        var outputs = new[] { outputName };
        foreach (var (value, _) in packed)
        {
            using var result = session.Run(options, names, new[] { value }, outputs);
        }

        foreach (var (value, _) in packed)
        {
            value.Dispose();
        }
    }

    private sealed class Row
    {
        public float[] Input { get; set; } = Array.Empty<float>();
    }

    private sealed class GraphResult(string title, int rows)
    {
        public Dictionary<string, double> ApplyOnnx { get; } = new();

        public Dictionary<int, double> Raw { get; } = new();

        public Dictionary<int, double> MlNotes { get; } = new();

        public double MlNotesParallel { get; set; }

        public double BestMlNotes => Math.Max(MlNotes.Values.Max(), MlNotesParallel);

        public void Print()
        {
            Console.WriteLine($"{title} ({rows} rows), rows/s");
            Console.WriteLine($"  {"path",-42} {"rows/s",10}");
            foreach (var (setting, value) in ApplyOnnx)
            {
                Console.WriteLine($"  {"ApplyOnnxModel, " + setting,-42} {value,10:N0}");
            }

            foreach (int batch in s_batchSizes)
            {
                Console.WriteLine($"  {$"raw ONNX Runtime Run, batch {batch}",-42} {Raw[batch],10:N0}");
            }

            foreach (int batch in s_batchSizes)
            {
                Console.WriteLine($"  {$"MlNotes ApplyOnnxModelBatched, batch {batch}",-42} {MlNotes[batch],10:N0}   ({MlNotes[batch] / Raw[batch]:P0} of raw at this batch)");
            }

            Console.WriteLine($"  {"MlNotes, batch 128, IntraOp=1, 2 cursors",-42} {MlNotesParallel,10:N0}");
            Console.WriteLine();
        }
    }
}
