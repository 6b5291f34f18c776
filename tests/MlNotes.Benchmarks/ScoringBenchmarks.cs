using System;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Benchmarks;

/// <summary>
/// BenchmarkDotNet view of the scoring path on the small ViT: time and allocations per 1,024 rows.
/// <c>dotnet run -c Release --project tests/MlNotes.Benchmarks -- bdn --filter '*ScoringBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks : IDisposable
{
    private const int Rows = 1024;
    private MLContext _ml = null!;
    private IDataView _data = null!;
    private OnnxTransformer _applyOnnx = null!;
    private OnnxScoringTransformer _mlNotes = null!;

    [Params(8, 128)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string model = Path.Combine(AppContext.BaseDirectory, "TestModels", "vit_small.onnx");
        _ml = new MLContext(seed: 1);
        var random = new Random(1);
        var rows = Enumerable.Range(0, Rows).Select(_ => new Row { image = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray() });
        _data = _ml.Data.Cache(_ml.Data.LoadFromEnumerable(rows));
        _applyOnnx = _ml.Transforms.ApplyOnnxModel("logits", "image", model).Fit(_data);
        _mlNotes = _ml.Transforms.ApplyOnnxModelBatched(model, outputColumnNames: new[] { "logits" }, batchSize: BatchSize).Fit(_data);
    }

    [Benchmark(Baseline = true)]
    public float ApplyOnnxModel() => Sum(_applyOnnx.Transform(_data));

    [Benchmark]
    public float ApplyOnnxModelBatched() => Sum(_mlNotes.Transform(_data));

    [GlobalCleanup]
    public void Dispose()
    {
        _applyOnnx?.Dispose();
        _mlNotes?.Dispose();
        GC.SuppressFinalize(this);
    }

    private static float Sum(IDataView view)
    {
        var column = view.Schema["logits"];
        using var cursor = view.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            sum += value.GetValues()[0];
        }

        return sum;
    }

    public sealed class Row
    {
        [VectorType(1, 28, 28)]
        public float[] image { get; set; } = Array.Empty<float>();
    }
}
