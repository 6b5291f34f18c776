using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Text;

namespace MlNotes.Benchmarks;

/// <summary>
/// Rows/s of the text encoder on the fortunes test texts (their real length distribution): MlNotes (length-sorted windows,
/// each run padded to its own longest row) against padding every row to the maximum length (what ApplyOnnxModel's fixed-size
/// columns need), and against raw ONNX Runtime on the same dynamic batches; and tokenization's share of MlNotes' time.
/// </summary>
internal sealed class TextScenario : IScenario
{
    public string Name => "text";

    public string Description => "text encoder: dynamic padding vs fixed max-length padding vs raw ORT (-- text [repeats])";

    public int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0]) : 3;
        string root = VisionScenario.FindRoot();
        string model = Path.Combine(root, "models-onnx", "text-fortunes.onnx");
        var texts = File.ReadLines(Path.Combine(root, "models-onnx", "data", "fortunes", "test.tsv")).Skip(1)
            .Select(line => line[(line.IndexOf('\t') + 1)..]).ToArray();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t })));
        const int Batch = 32, Window = 4;
        using var encoder = ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFile = model, BatchSize = Batch, SortWindow = Window }).Fit(data);
        int maxLength = encoder.Config.MaxLength;
        var ids = texts.Select(t => encoder.Tokenize(t).Select(i => (long)i).ToArray()).ToArray();
        Console.WriteLine($"Text benchmark: {texts.Length} fortunes test texts, {ids.Average(i => i.Length):F1} tokens on average " +
            $"(max {ids.Max(i => i.Length)}, cut at {maxLength}), batch {Batch}, sort window {Window} batches, best of {repeats}.");

        double mlNotes = Throughput.Best(repeats, texts.Length, () => Throughput.Drain<VBuffer<float>>(encoder.Transform(data), "Embedding"));
        using var encoder1 = ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFile = model, BatchSize = Batch, SortWindow = Window, IntraOpNumThreads = 1 }).Fit(data);
        double mlNotes1 = Throughput.Best(repeats, texts.Length, () => Throughput.Drain<VBuffer<float>>(encoder1.Transform(data), "Embedding"));
        double tokenizeOnly = Throughput.Best(repeats, texts.Length, () =>
        {
            foreach (string t in texts)
            {
                encoder.Tokenize(t);
            }
        });

        // The same groups MlNotes forms: windows of Batch*Window rows sorted by length, cut into runs of Batch.
        var groups = new List<long[][]>();
        for (int w = 0; w < ids.Length; w += Batch * Window)
        {
            var window = ids.Skip(w).Take(Batch * Window).OrderBy(r => r.Length).ToArray();
            for (int g = 0; g < window.Length; g += Batch)
            {
                groups.Add(window.Skip(g).Take(Batch).ToArray());
            }
        }

        var fixedGroups = ids.Chunk(Batch).ToArray();
        // Raw ONNX Runtime at its best of the default, 1 and 2 intra-op threads (MlNotes runs its default), same optimization level.
        double raw = 0, fixedLength = 0, raw1 = 0;
        string output = encoder.Config.PooledTensorName ?? encoder.Config.HiddenStateTensorName!;
        foreach (int threads in new[] { 0, 1, 2 })
        {
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(model, sessionOptions);
            double dynamicRate = Throughput.Best(repeats, texts.Length, () => RunGroups(session, groups, width: null, output));
            double fixedRate = Throughput.Best(repeats, texts.Length, () => RunGroups(session, fixedGroups, width: maxLength, output));
            Console.WriteLine($"  raw ORT, intra-op threads {(threads == 0 ? "default" : threads.ToString())}: dynamic {dynamicRate:N0} rows/s, padded to {maxLength} {fixedRate:N0} rows/s");
            raw = Math.Max(raw, dynamicRate);
            raw1 = threads == 1 ? dynamicRate : raw1;
            fixedLength = Math.Max(fixedLength, fixedRate);
        }

        Console.WriteLine();
        Console.WriteLine($"  {"path",-66} {"rows/s",10}");
        Console.WriteLine($"  {"MlNotes EncodeTextOnnx (tokenize, sort, dynamic padding, pool)",-66} {mlNotes,10:N0}");
        Console.WriteLine($"  {"raw ONNX Runtime on the same dynamic batches (pre-tokenized, best threads)",-66} {raw,10:N0}");
        Console.WriteLine($"  {$"raw ONNX Runtime, every row padded to {maxLength} (ApplyOnnxModel's shape)",-66} {fixedLength,10:N0}");
        Console.WriteLine($"  {"MlNotes EncodeTextOnnx, IntraOpNumThreads = 1",-66} {mlNotes1,10:N0}");
        Console.WriteLine($"  {"tokenization alone",-66} {tokenizeOnly,10:N0}");
        double tokenizeShare = mlNotes / tokenizeOnly;
        Console.WriteLine($"  tokenization share of MlNotes' time: {tokenizeShare:P1}");
        Console.WriteLine($"RESULT text dynamic_vs_fixed={mlNotes / fixedLength:F2} mlnotes_vs_ort={mlNotes / raw:F2} mlnotes_best_vs_ort={Math.Max(mlNotes, mlNotes1) / raw:F2} same_threads_1={mlNotes1 / raw1:F2}");
        return 0;
    }

    private static void RunGroups(InferenceSession session, IReadOnlyList<long[][]> groups, int? width, string output)
    {
        using var options = new RunOptions();
        foreach (var group in groups)
        {
            int n = group.Length, w = width ?? group.Max(r => r.Length);
            var idBuffer = new long[n * w];
            var mask = new long[n * w];
            for (int r = 0; r < n; r++)
            {
                for (int t = 0; t < group[r].Length && t < w; t++)
                {
                    idBuffer[(r * w) + t] = group[r][t];
                    mask[(r * w) + t] = 1;
                }
            }

            using var ids = OrtValue.CreateTensorValueFromMemory(idBuffer, new long[] { n, w });
            using var attention = OrtValue.CreateTensorValueFromMemory(mask, new long[] { n, w });
            using var result = session.Run(options, new[] { "input_ids", "attention_mask" }, new[] { ids, attention }, new[] { output });
        }
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
