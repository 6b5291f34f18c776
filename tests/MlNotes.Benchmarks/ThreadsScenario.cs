using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Benchmarks;

/// <summary>
/// Intra-op thread settings side by side: first the mechanism (what topology the process sees, how many threads ONNX Runtime's
/// default pool creates and whether they are pinned), then rows/s of the small ViT and the CLIP image tower at batch 128, raw
/// ONNX Runtime at IntraOp = default, 1, 2 (spinning on and off where a pool exists) and MlNotes at default, 1, 2 with 1 and 2
/// cursors. The configurations run round-robin (each round in a rotated order, so a load change on this shared machine hits them
/// alike); the table gives the median and the range over the rounds, with the load average before and after.
/// </summary>
internal sealed class ThreadsScenario : IScenario
{
    private const int Batch = 128;
    private static readonly int[] s_dims = { 1, 28, 28 };

    public string Name => "threads";

    public string Description => "intra-op threads: ORT's default pool (count, affinity), raw ORT vs MlNotes at default/1/2 (-- threads [rounds] [rows])";

    public int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        int rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8192;
        string root = VisionScenario.FindRoot();
        var graphs = new (string Key, string File, string Output)[]
        {
            ("vit", Path.Combine(AppContext.BaseDirectory, "TestModels", "vit_small.onnx"), "logits"),
            ("clip", Path.Combine(root, "models-onnx", "clip-fashion-image.onnx"), "image_embeds"),
        };

        Console.WriteLine($"Threads benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {rows} rows per measurement, {rounds} rounds, batch {Batch}.");
        Console.WriteLine($"  Environment.ProcessorCount {Environment.ProcessorCount}; process Cpus_allowed_list {AllowedCpus("/proc/self/status")}; " +
            $"cores by thread_siblings_list (cpuinfo's grouping) {PhysicalCores()}; load average {LoadAverage()}.");
        int defaultPool = Mechanism(graphs[0].File);

        var random = new Random(42);
        int width = s_dims.Aggregate(1, (a, d) => a * d);
        var values = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, width).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, s_dims);
        schema[nameof(Row.Image)].ColumnName = "image";
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(values.Select(v => new Row { Image = v }), schema));
        Throughput.Drain<VBuffer<float>>(data, "image");
        var packed = Pack(values);

        var configs = new List<(string Graph, string Name, Action Run)>();
        var owned = new List<IDisposable>();
        foreach (var (key, file, output) in graphs)
        {
            foreach (var (threads, spin) in new[] { (0, true), (0, false), (1, true), (2, true), (2, false) })
            {
                var options = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
                if (!spin)
                {
                    options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                }

                var session = new InferenceSession(file, options);
                owned.Add(session);
                owned.Add(options);
                configs.Add((key, $"raw ORT, IntraOp={Label(threads)}{(spin ? "" : ", no spinning")}", () => RawRuns(session, packed, output)));
            }

            foreach (var (threads, cursors) in new[] { (0, 1), (1, 1), (2, 1), (1, 2), (0, 2) })
            {
                var scorer = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
                {
                    ModelFile = file, OutputColumnNames = new[] { output }, BatchSize = Batch, IntraOpNumThreads = threads,
                }).Fit(data);
                owned.Add(scorer);
                Action run = cursors == 1
                    ? () => Throughput.Drain<VBuffer<float>>(scorer.Transform(data), output)
                    : () => Throughput.DrainParallel(scorer.Transform(data), output, cursors);
                configs.Add((key, $"MlNotes, IntraOp={Label(threads)}, {cursors} cursor{(cursors == 1 ? "" : "s")}", run));
            }
        }

        string loadBefore = LoadAverage();
        configs.ForEach(c => c.Run()); // warm-up: JIT, first-run allocations
        var rates = configs.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < configs.Count; k++)
            {
                int i = (k + (round * 3)) % configs.Count; // rotate the order: no configuration always runs first or after the same one
                Thread.Sleep(20); // let the previous configuration's spinning workers go to sleep
                var watch = Stopwatch.StartNew();
                configs[i].Run();
                rates[i].Add(rows / watch.Elapsed.TotalSeconds);
            }
        }

        string loadAfter = LoadAverage();
        owned.ForEach(o => o.Dispose());
        Console.WriteLine();
        Console.WriteLine($"  load average (1, 5, 15 min) before {loadBefore}, after {loadAfter}; the machine is shared with other engineers' builds and tests.");
        var medians = new Dictionary<(string, string), double>();
        foreach (var (key, _, _) in graphs)
        {
            Console.WriteLine();
            Console.WriteLine($"  {key + ", batch " + Batch,-50} {"median",9} {"min",9} {"max",9}  rows/s over {rounds} rounds");
            for (int i = 0; i < configs.Count; i++)
            {
                if (configs[i].Graph != key)
                {
                    continue;
                }

                var sorted = rates[i].OrderBy(r => r).ToArray();
                double median = sorted[sorted.Length / 2];
                medians[(key, configs[i].Name)] = median;
                Console.WriteLine($"  {configs[i].Name,-50} {median,9:N0} {sorted[0],9:N0} {sorted[^1],9:N0}");
            }
        }

        // mlnotes_default_vs_best: MlNotes at its default (IntraOp=0, 1 cursor) against the best median of every configuration measured;
        // raw_default_vs_2: ORT's own default (pinned pool) against an explicit IntraOp=2 (no affinity), both with spinning.
        string Ratio(string graph, string a, string b) => (medians[(graph, a)] / medians[(graph, b)]).ToString("F2", CultureInfo.InvariantCulture);
        string Best(string graph) => (medians[(graph, "MlNotes, IntraOp=default, 1 cursor")] / medians.Where(m => m.Key.Item1 == graph).Max(m => m.Value))
            .ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine($"RESULT threads ort_default_pool={defaultPool} " +
            $"vit_mlnotes_default_vs_best={Best("vit")} clip_mlnotes_default_vs_best={Best("clip")} " +
            $"vit_raw_default_vs_2={Ratio("vit", "raw ORT, IntraOp=default", "raw ORT, IntraOp=2")} " +
            $"clip_raw_default_vs_2={Ratio("clip", "raw ORT, IntraOp=default", "raw ORT, IntraOp=2")}");
        return 0;
    }

    // Creates a session per setting, runs it once, and lists the threads that appeared with their allowed CPUs; returns the
    // number of threads ORT's default pool uses (its workers plus the calling thread, which takes part in every parallel loop).
    private static int Mechanism(string model)
    {
        Console.WriteLine();
        Console.WriteLine("  threads each session adds (new tasks under /proc/self/task) and their Cpus_allowed_list:");
        int defaultPool = 1;
        var input = Enumerable.Range(0, Batch * 784).Select(i => (i % 7) / 7f).ToArray();
        using (new InferenceSession(model))
        {
            // The first session in a process also starts ONNX Runtime's own once-per-process threads: not counted below.
        }

        foreach (var (name, threads) in new[] { ("ORT default (0)", 0), ("MlNotes default (0)", -1), ("IntraOp=1", 1), ("IntraOp=2", 2) })
        {
            var before = Tasks();
            InferenceSession session;
            if (threads >= 0)
            {
                using var options = new SessionOptions { IntraOpNumThreads = threads };
                session = new InferenceSession(model, options);
            }
            else
            {
                // MlNotes' own session, through the factory the transforms use.
                session = OnnxSessionFactory.Create(File.ReadAllBytes(model), OnnxExecutionSettings.Cpu, "vit_small", false, out _);
            }

            using (session)
            {
                using var value = OrtValue.CreateTensorValueFromMemory(input, new long[] { Batch, 1, 28, 28 });
                using var runOptions = new RunOptions();
                using var result = session.Run(runOptions, new[] { "image" }, new[] { value }, session.OutputNames.Take(1).ToArray());
                var added = Tasks().Except(before)
                    .Select(t => (Id: t, Comm: Read($"/proc/self/task/{t}/comm").Trim(), Cpus: AllowedCpus($"/proc/self/task/{t}/status")))
                    // The runtime's own threads (tiered JIT, thread pool); a native thread inherits its creator's name, here the main thread's.
                    .Where(t => !t.Comm.StartsWith(".NET", StringComparison.Ordinal))
                    .ToArray();
                Console.WriteLine($"    {name,-22} {added.Length} new: {string.Join(", ", added.Select(t => $"{t.Comm} cpus {t.Cpus}"))}; " +
                    $"calling thread cpus {AllowedCpus("/proc/thread-self/status")}");
                if (threads == 0)
                {
                    defaultPool = added.Length + 1;
                }
            }
        }

        return defaultPool;
    }

    private static HashSet<string> Tasks() => Directory.GetDirectories("/proc/self/task").Select(Path.GetFileName).ToHashSet()!;

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string AllowedCpus(string statusFile)
        => Read(statusFile).Split('\n').FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";

    // cpuinfo (ONNX Runtime's source of "physical cores" on Linux) groups logical CPUs into cores by their thread siblings.
    private static int PhysicalCores()
        => Directory.GetDirectories("/sys/devices/system/cpu", "cpu*")
            .Select(d => Path.Combine(d, "topology", "thread_siblings_list"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .Distinct()
            .Count();

    private static string LoadAverage() => string.Join(", ", Read("/proc/loadavg").Split(' ').Take(3));

    private static string Label(int threads) => threads == 0 ? "default" : threads.ToString(CultureInfo.InvariantCulture);

    private static List<OrtValue> Pack(float[][] values)
    {
        var packed = new List<OrtValue>();
        for (int start = 0; start < values.Length; start += Batch)
        {
            int n = Math.Min(Batch, values.Length - start);
            var buffer = new float[n * 784];
            for (int i = 0; i < n; i++)
            {
                values[start + i].CopyTo(buffer, i * 784);
            }

            packed.Add(OrtValue.CreateTensorValueFromMemory(buffer, new long[] { n, 1, 28, 28 }));
        }

        return packed;
    }

    // The floor: tensors packed before the clock starts, one Run per batch, nothing else.
    private static void RawRuns(InferenceSession session, List<OrtValue> packed, string output)
    {
        using var options = new RunOptions();
        string[] inputs = { "image" }, outputs = { output };
        foreach (var value in packed)
        {
            using var result = session.Run(options, inputs, new[] { value }, outputs);
        }
    }

    private sealed class Row
    {
        public float[] Image { get; set; } = Array.Empty<float>();
    }
}
