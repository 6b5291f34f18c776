using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Generation;

namespace MlNotes.Benchmarks;

/// <summary>
/// Generated tokens/s of GenerateSequenceOnnx (greedy) with the G2P Transformer on its test words: the KV cache against
/// recomputing the whole prefix at every step (UseCache = false), batches of 64 rows against one row at a time, and MlNotes
/// against a PyTorch greedy decode of the same model and weights (generate_torch.py: vectorized, KV cache, batches of 64),
/// both at 2 threads. The MlNotes configurations run in interleaved rounds (best of the rounds), with a greedy loop straight on
/// ONNX Runtime one row at a time (GenerateRawOrt: the floor of MlNotes' batch 1); the decoder-only fortunes LM's cache gain
/// (60 new tokens after a prompt) is printed beside. Tokens: generated ones, end-of-sequence included.
/// </summary>
internal sealed class GenerateScenario : IScenario
{
    private const int Threads = 2;

    public string Name => "generate";

    public string Description => "sequence generation: KV cache vs recompute, batch 64 vs 1, MlNotes vs PyTorch (-- generate [words] [repeats])";

    public int Run(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 512;
        int repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        string root = VisionScenario.FindRoot();
        string manifest = Path.Combine(root, "models-onnx", "g2p-cmudict.json");
        var words = ReadWords(Path.Combine(root, "models-onnx", "data", "g2p", "test.tsv.gz")).Take(count).ToArray();
        int singleCount = Math.Min(words.Length, 256);
        var ml = new MLContext(seed: 1);
        var all = ml.Data.Cache(ml.Data.LoadFromEnumerable(words.Select(w => new WordRow { Text = w })));
        var some = ml.Data.Cache(ml.Data.LoadFromEnumerable(words.Take(singleCount).Select(w => new WordRow { Text = w })));
        Console.WriteLine($"Generate benchmark: G2P Transformer greedy, {words.Length} test words ({singleCount} one row at a time), " +
            $"{Threads} intra-op threads, best of {repeats} interleaved rounds; load average {LoadAverage()} at the start.");

        var configs = new (string Name, IDataView Data, SequenceGeneratorEstimator.Options Options)[]
        {
            ("cache, batch 64", all, Options(manifest, cache: true, batch: 64)),
            ("no cache, batch 64", all, Options(manifest, cache: false, batch: 64)),
            ("cache, batch 1", some, Options(manifest, cache: true, batch: 1)),
        };
        var models = configs.Select(c => ml.Transforms.GenerateSequenceOnnx(c.Options).Fit(c.Data)).ToArray();
        var best = new double[configs.Length];
        var tokens = new long[configs.Length];
        using var raw = new GenerateRawOrt(manifest, words.Take(singleCount).ToArray(), Threads);
        double rawBest = 0;
        try
        {
            for (int i = 0; i < configs.Length; i++)
            {
                tokens[i] = Tokens(models[i].Transform(configs[i].Data)); // warm-up
            }

            long rawTokens = raw.Pass();
            if (rawTokens != tokens[2])
            {
                throw new InvalidOperationException($"The raw ONNX Runtime loop generated {rawTokens} tokens, MlNotes one row at a time {tokens[2]}.");
            }

            for (int round = 0; round < repeats; round++)
            {
                for (int i = 0; i < configs.Length; i++)
                {
                    var watch = Stopwatch.StartNew();
                    Tokens(models[i].Transform(configs[i].Data));
                    best[i] = Math.Max(best[i], tokens[i] / watch.Elapsed.TotalSeconds);
                }

                var rawWatch = Stopwatch.StartNew();
                raw.Pass();
                rawBest = Math.Max(rawBest, rawTokens / rawWatch.Elapsed.TotalSeconds);
            }
        }
        finally
        {
            foreach (var m in models)
            {
                m.Dispose();
            }
        }

        double lmCache = LmCacheRatio(ml, root, repeats);
        var (torch, torchTokens) = Torch(words, repeats);
        Console.WriteLine();
        Console.WriteLine($"  {"configuration",-28} {"tokens",8} {"tokens/s",10}");
        for (int i = 0; i < configs.Length; i++)
        {
            Console.WriteLine($"  {"MlNotes " + configs[i].Name,-28} {tokens[i],8} {best[i],10:N0}");
        }

        Console.WriteLine($"  {"raw ONNX Runtime, batch 1",-28} {tokens[2],8} {rawBest,10:N0}   (MlNotes batch 1 / raw = {best[2] / rawBest:F2}: MlNotes' own work per step and row)");
        Console.WriteLine($"  {"PyTorch cache, batch 64",-28} {torchTokens,8} {torch,10:N0}");
        Console.WriteLine($"  fortunes LM (decoder-only, up to 60 new tokens, batch 16): cache / no cache = {lmCache:F2}");
        Console.WriteLine($"  load average at the end: {LoadAverage()} (2 cores, shared)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT generate cache_vs_nocache={best[0] / best[1]:F2} batched_vs_single={best[0] / best[2]:F2} mlnotes_vs_torch={best[0] / torch:F2}"));
        return 0;
    }

    private static SequenceGeneratorEstimator.Options Options(string manifest, bool cache, int batch) => new()
    {
        ManifestFile = manifest,
        UseCache = cache,
        BatchSize = batch,
        IntraOpNumThreads = Threads,
    };

    /// <summary>Generated tokens of a pass, end-of-sequence included where it was generated.</summary>
    private static long Tokens(IDataView view)
    {
        var tokens = view.Schema["GeneratedTokens"];
        var finished = view.Schema["Finished"];
        using var cursor = view.GetRowCursor([tokens, finished]);
        var getTokens = cursor.GetGetter<VBuffer<int>>(tokens);
        var getFinished = cursor.GetGetter<bool>(finished);
        VBuffer<int> value = default;
        bool done = false;
        long sum = 0;
        while (cursor.MoveNext())
        {
            getTokens(ref value);
            getFinished(ref done);
            sum += value.Length + (done ? 1 : 0);
        }

        return sum;
    }

    /// <summary>The fortunes LM continuing 16 prompts by up to 60 tokens: cached / uncached tokens/s.</summary>
    private static double LmCacheRatio(MLContext ml, string root, int repeats)
    {
        string manifest = Path.Combine(root, "models-onnx", "lm-fortunes.json");
        string[] prompts = ["The ", "A man ", "Computers ", "Love is ", "Why ", "Never ", "It is ", "If you "];
        var data = ml.Data.LoadFromEnumerable(prompts.Concat(prompts).Select(p => new WordRow { Text = p }));
        var rates = new double[2];
        var generators = new[] { true, false }.Select(cache => ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options
        {
            ManifestFile = manifest,
            UseCache = cache,
            BatchSize = 16,
            IntraOpNumThreads = Threads,
        }).Fit(data)).ToArray();
        try
        {
            var tokens = generators.Select(g => Tokens(g.Transform(data))).ToArray();
            for (int round = 0; round < repeats; round++)
            {
                for (int i = 0; i < 2; i++)
                {
                    var watch = Stopwatch.StartNew();
                    Tokens(generators[i].Transform(data));
                    rates[i] = Math.Max(rates[i], tokens[i] / watch.Elapsed.TotalSeconds);
                }
            }
        }
        finally
        {
            foreach (var g in generators)
            {
                g.Dispose();
            }
        }

        return rates[0] / rates[1];
    }

    /// <summary>generate_torch.py through tools/with-torch at 2 threads on the same words, <paramref name="repeats"/> passes after a one-batch warm-up: its best tokens/s and its token count.</summary>
    private static (double TokensPerSecond, long Tokens) Torch(string[] words, int repeats)
    {
        string file = Path.Combine(Path.GetTempPath(), $"mlnotes-generate-{Environment.ProcessId}.txt");
        File.WriteAllLines(file, words);
        try
        {
            var start = new ProcessStartInfo(Path.Combine("tools", "with-torch")) { RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine("tests", "MlNotes.Benchmarks", "generate_torch.py"));
            start.ArgumentList.Add(file);
            start.ArgumentList.Add(repeats.ToString(CultureInfo.InvariantCulture));
            start.Environment["TORCH_THREADS"] = Threads.ToString(CultureInfo.InvariantCulture);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start tools/with-torch (run from the repository root).");
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"generate_torch.py failed with exit code {process.ExitCode}.");
            }

            using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            return (json.RootElement.GetProperty("tokens_per_s").GetDouble(), json.RootElement.GetProperty("tokens").GetInt64());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<string> ReadWords(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
        {
            yield return line[..line.IndexOf('\t', StringComparison.Ordinal)];
        }
    }

    internal static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private sealed class WordRow
    {
        public string Text { get; set; } = "";
    }
}
