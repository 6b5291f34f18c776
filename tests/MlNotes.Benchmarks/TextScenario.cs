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
/// columns need), and against raw ONNX Runtime on the same dynamic batches, both at the default, 1 and 2 intra-op threads in
/// interleaved rounds (wall-clock rows/s, best of the rounds, and process CPU time per pass, the median: CPU time moves less with
/// the load of a shared machine); and tokenization's share of MlNotes' time.
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
        string output = encoder.Config.PooledTensorName ?? encoder.Config.HiddenStateTensorName!;
        // MlNotes and raw ONNX Runtime (same optimization level) at the default, 1 and 2 intra-op threads. An explicit count
        // gives both the same session settings (2 threads spin in both; MlNotes' default of one thread per CPU does not).
        // Every round measures every configuration once, in turn, each keeping its best, so a burst of load hits all alike.
        int[] settings = { 0, 1, 2 };
        var encoders = settings.ToDictionary(t => t, t => t == 0 ? encoder : ml.Transforms.EncodeTextOnnx(
            new OnnxTextEncoderEstimator.Options { ModelFile = model, BatchSize = Batch, SortWindow = Window, IntraOpNumThreads = t }).Fit(data));
        var sessions = settings.ToDictionary(t => t, t =>
        {
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = t, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            return new InferenceSession(model, sessionOptions);
        });
        // Raw ORT at MlNotes' default settings (one thread per CPU of the process, explicit, not spinning: docs/threads.md): the
        // comparison on equal terms for the default, since raw ORT's own default pins and spins.
        using var sameOptions = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        sameOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var sameSession = new InferenceSession(model, sameOptions);
        double rawSame = 0;
        var mlNotes = new Dictionary<int, double>();
        var raw = new Dictionary<int, double>();
        var cpu = new Dictionary<string, double>();
        double fixedLength = 0;
        static void Keep(Dictionary<int, double> best, int key, double rate) => best[key] = Math.Max(best.GetValueOrDefault(key), rate);
        try
        {
            foreach (int t in settings)
            {
                Throughput.Drain<VBuffer<float>>(encoders[t].Transform(data), "Embedding");
                RunGroups(sessions[t], groups, width: null, output);
            }

            RunGroups(sameSession, groups, width: null, output);

            for (int round = 0; round < repeats; round++)
            {
                foreach (int t in settings)
                {
                    Keep(mlNotes, t, Timed(cpu, $"mlnotes {t}", texts.Length, () => Throughput.Drain<VBuffer<float>>(encoders[t].Transform(data), "Embedding")));
                    Keep(raw, t, Timed(cpu, $"raw {t}", texts.Length, () => RunGroups(sessions[t], groups, width: null, output)));
                    fixedLength = Math.Max(fixedLength, Timed(cpu, $"fixed {t}", texts.Length, () => RunGroups(sessions[t], fixedGroups, width: maxLength, output)));
                }

                rawSame = Math.Max(rawSame, Timed(cpu, "raw same", texts.Length, () => RunGroups(sameSession, groups, width: null, output)));
            }
        }
        finally
        {
            foreach (int t in settings)
            {
                sessions[t].Dispose();
                if (t != 0)
                {
                    encoders[t].Dispose();
                }
            }
        }

        double rawBest = raw.Values.Max(), mlNotesBest = mlNotes.Values.Max();
        int rawBestSetting = raw.First(kv => kv.Value == rawBest).Key;
        Console.WriteLine();
        Console.WriteLine($"  rows/s, best of {repeats} interleaved rounds (load average {LoadAverage()}); CPU ms per pass, median over the rounds");
        Console.WriteLine($"  {"intra-op threads",-18} {"MlNotes",10} {"raw ORT",10} {"ratio",7} {"CPU MlNotes",12} {"CPU raw",9} {"CPU ratio",10}");
        foreach (int t in settings)
        {
            double cpuMl = cpu[$"mlnotes {t}"], cpuRaw = cpu[$"raw {t}"];
            Console.WriteLine($"  {(t == 0 ? "default" : t.ToString(System.Globalization.CultureInfo.InvariantCulture)),-18} {mlNotes[t],10:N0} {raw[t],10:N0} {mlNotes[t] / raw[t],7:F2} {cpuMl,12:F0} {cpuRaw,9:F0} {cpuRaw / cpuMl,10:F2}");
        }

        Console.WriteLine($"  raw ORT at MlNotes' default settings ({Environment.ProcessorCount} threads, not spinning): {rawSame:N0} rows/s, MlNotes' default {mlNotes[0] / rawSame:F2}x");
        Console.WriteLine($"  raw ORT with every row padded to {maxLength} (ApplyOnnxModel's shape), best setting: {fixedLength:N0} rows/s");
        Console.WriteLine($"  tokenization alone: {tokenizeOnly:N0} rows/s, {mlNotes[0] / tokenizeOnly:P1} of MlNotes' time");
        Console.WriteLine($"RESULT text dynamic_vs_fixed={mlNotes[0] / fixedLength:F2} mlnotes_vs_ort={mlNotes[0] / rawBest:F2} " +
            $"mlnotes_best_vs_ort={mlNotesBest / rawBest:F2} same_setting_as_ort_best={mlNotes[rawBestSetting] / rawBest:F2} same_threads_1={mlNotes[1] / raw[1]:F2} " +
            $"mlnotes_vs_ort_same_settings={mlNotes[0] / rawSame:F2}");
        return 0;
    }

    // rows/s of one run of `run`; its process CPU time is appended to that label's list, whose median ends up in `cpu`.
    private static double Timed(Dictionary<string, double> cpu, string label, int rows, Action run)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        run();
        double seconds = watch.Elapsed.TotalSeconds;
        process.Refresh();
        double ms = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
        s_cpuRuns.TryAdd(label, new List<double>());
        s_cpuRuns[label].Add(ms);
        var sorted = s_cpuRuns[label].OrderBy(x => x).ToArray();
        cpu[label] = sorted[sorted.Length / 2];
        return rows / seconds;
    }

    private static readonly Dictionary<string, List<double>> s_cpuRuns = new();

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

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
