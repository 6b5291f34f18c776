using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading;

namespace MlNotes.Benchmarks;

/// <summary>
/// The MlNotes.Serving sample over loopback, driven by wrk (a real load generator, installed from Debian when missing) at
/// concurrency 1, 8, 32 and 64: the micro-batching pool (POST /classify, /embed) against pooled per-request PredictionEngines
/// (POST /baseline/classify, /baseline/embed: what PredictionEnginePool does), same server, same models. Every setting runs
/// once per round, the order of the two paths alternating from round to round; medians over the rounds. Before and after
/// the rounds it measures the ceiling batching can reach on this machine: the ViT graph alone in raw ONNX Runtime (default
/// session options, no HTTP, no preprocessing), rows/s at batch 32 against batch 1.
/// </summary>
internal sealed class ServingScenario : IScenario
{
    private static readonly int[] s_concurrency = [1, 8, 32, 64];

    public string Name => "serving";

    public string Description => "web serving: micro-batching pool vs pooled PredictionEngines, wrk at c=1/8/32/64 (-- serving [seconds] [rounds] [MaxConcurrentBatches])";

    public int Run(string[] args)
    {
        int seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        int? slots = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : null;
        string root = VisionScenario.FindRoot();
        string wrk = EnsureWrk();
        string script = Path.Combine(AppContext.BaseDirectory, "serving.lua");
        string work = Path.Combine(Path.GetTempPath(), "mlnotes-serving-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        string image = Path.Combine(root, "models-onnx", "data", "fashion-mnist-subset", "00000.png");
        string text = Path.Combine(work, "text.json");
        string fortune = File.ReadLines(Path.Combine(root, "models-onnx", "data", "fortunes", "test.tsv")).Skip(1).First().Split('\t', 2)[1];
        File.WriteAllText(text, JsonSerializer.Serialize(new { texts = new[] { fortune } }));
        const string Url = "http://127.0.0.1:5097";
        var ceilingBefore = ModelCeiling(root);
        using var server = StartServer(root, work, Url, slots);
        try
        {
            Console.WriteLine($"Serving benchmark: wrk over loopback, {seconds} s per setting, {rounds} rounds, {Environment.ProcessorCount} cores; " +
                $"load average {LoadAverage()} before. Pool: MaxBatchSize 32, MaxDelay 2 ms, MaxConcurrentBatches {(slots?.ToString(CultureInfo.InvariantCulture) ?? "1")} (the sample's defaults unless given).");
            var endpoints = new (string Model, string Path, string Body, string Type)[]
            {
                ("vit", "/classify", image, "application/octet-stream"), ("vit", "/baseline/classify", image, "application/octet-stream"),
                ("text", "/embed", text, "application/json"), ("text", "/baseline/embed", text, "application/json"),
            };
            foreach (var e in endpoints)
            {
                Wrk(wrk, script, Url + e.Path, e.Body, e.Type, 8, 2); // warm-up: JIT, engine pool, ORT arenas
            }

            var runs = new Dictionary<(string Path, int C), List<WrkRun>>();
            for (int round = 0; round < rounds; round++)
            {
                foreach (int c in s_concurrency)
                {
                    foreach (string model in new[] { "vit", "text" })
                    {
                        var pair = endpoints.Where(e => e.Model == model).ToArray();
                        foreach (var e in round % 2 == 0 ? pair : pair.Reverse())
                        {
                            var run = Wrk(wrk, script, Url + e.Path, e.Body, e.Type, c, seconds);
                            if (!runs.TryGetValue((e.Path, c), out var list))
                            {
                                runs[(e.Path, c)] = list = [];
                            }

                            list.Add(run);
                        }
                    }
                }

                Console.WriteLine($"  round {round + 1} done, load average {LoadAverage()}");
            }

            Console.WriteLine();
            Console.WriteLine($"  {"model",-5} {"c",3} {"path",-12} {"req/s",8} {"(min-max)",15} {"p50 ms",8} {"p99 ms",8} {"non-2xx",8} | {"x req/s",8} {"x p50",6}");
            var ratios = new Dictionary<(string Model, int C), (double Throughput, double P50)>();
            foreach (string model in new[] { "vit", "text" })
            {
                foreach (int c in s_concurrency)
                {
                    var pool = endpoints.First(e => e.Model == model && !e.Path.StartsWith("/baseline", StringComparison.Ordinal)).Path;
                    var baseline = "/baseline" + pool;
                    var p = Summary(runs[(pool, c)]);
                    var b = Summary(runs[(baseline, c)]);
                    ratios[(model, c)] = (p.Rps / b.Rps, p.P50 / b.P50);
                    Console.WriteLine($"  {model,-5} {c,3} {"pool",-12} {p.Rps,8:N0} {$"({p.Min:N0}-{p.Max:N0})",15} {p.P50,8:F2} {p.P99,8:F2} {p.Non2xx,8} | {p.Rps / b.Rps,8:F2} {p.P50 / b.P50,6:F2}");
                    Console.WriteLine($"  {model,-5} {c,3} {"engines",-12} {b.Rps,8:N0} {$"({b.Min:N0}-{b.Max:N0})",15} {b.P50,8:F2} {b.P99,8:F2} {b.Non2xx,8} |");
                }
            }

            Console.WriteLine($"  load average after: {LoadAverage()}");
            var ceilingAfter = ModelCeiling(root);
            double ceiling = Median([ceilingBefore.Batch32 / ceilingBefore.Batch1, ceilingAfter.Batch32 / ceilingAfter.Batch1]);
            double ceilingC32 = Median([ceilingBefore.Batch32 / ceilingBefore.Batch1From32Threads, ceilingAfter.Batch32 / ceilingAfter.Batch1From32Threads]);
            Console.WriteLine($"  the ceiling: ViT graph alone in raw ONNX Runtime (before / after the rounds), rows/s at batch 1 {ceilingBefore.Batch1:N0} / {ceilingAfter.Batch1:N0}, " +
                $"at batch 1 from 32 threads at once {ceilingBefore.Batch1From32Threads:N0} / {ceilingAfter.Batch1From32Threads:N0}, at batch 32 {ceilingBefore.Batch32:N0} / {ceilingAfter.Batch32:N0}: " +
                $"the graph runs {ceiling:F2}x faster at batch 32 than at batch 1, and {ceilingC32:F2}x faster than 32 callers running it at batch 1, with no HTTP and no preprocessing");
            Console.WriteLine($"CEILING serving vit_batch32_vs_batch1={ceiling:F2} vit_batch32_vs_batch1_32threads={ceilingC32:F2}");
            Console.WriteLine($"TEXT serving throughput_vs_pool_c32={ratios[("text", 32)].Throughput:F2} p50_ratio_c1={ratios[("text", 1)].P50:F2} " +
                $"throughput_vs_pool_c8={ratios[("text", 8)].Throughput:F2} throughput_vs_pool_c64={ratios[("text", 64)].Throughput:F2}");
            Console.WriteLine($"RESULT serving throughput_vs_pool_c32={ratios[("vit", 32)].Throughput:F2} p50_ratio_c1={ratios[("vit", 1)].P50:F2}");
            return 0;
        }
        finally
        {
            server.Stop();
            Directory.Delete(work, recursive: true);
        }
    }

    private static (double Rps, double Min, double Max, double P50, double P99, long Non2xx) Summary(List<WrkRun> runs)
        => (Median(runs.Select(r => r.Rps)), runs.Min(r => r.Rps), runs.Max(r => r.Rps), Median(runs.Select(r => r.P50Ms)), Median(runs.Select(r => r.P99Ms)), runs.Sum(r => r.Non2xx + r.SocketErrors));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static WrkRun Wrk(string wrk, string script, string url, string body, string type, int connections, int seconds)
    {
        var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-t", Math.Min(connections, 2).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", seconds + "s", "--timeout", "10s", "-s", script, url })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["WRK_BODY"] = body;
        start.Environment["WRK_TYPE"] = type;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRKRESULT ", StringComparison.Ordinal));
        if (process.ExitCode != 0 || line == null)
        {
            throw new InvalidOperationException($"wrk failed on {url} (exit {process.ExitCode}): {output} {errors}");
        }

        var fields = line["WRKRESULT ".Length..].Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture));
        return new WrkRun(fields["requests"] / (fields["duration_us"] / 1e6), fields["p50_us"] / 1e3, fields["p99_us"] / 1e3, fields["non2xx"], fields["socket_errors"]);
    }

    private static string EnsureWrk()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string candidate = Path.Combine(dir, "wrk");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Console.WriteLine("wrk is missing: apt-get install -y wrk");
        using var install = Process.Start("bash", ["-c", "apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null)"])!;
        install.WaitForExit();
        return File.Exists("/usr/bin/wrk") ? "/usr/bin/wrk" : throw new InvalidOperationException("wrk is not installed and apt-get could not install it (Debian package wrk).");
    }

    /// <summary>
    /// Rows/s of the ViT graph alone (raw ONNX Runtime, default session options, one session), best of 3 after a warm-up: batch 1 from
    /// one thread, batch 1 from 32 threads at once (what 32 pooled engines do), and batch 32 from one thread.
    /// </summary>
    private static (double Batch1, double Batch1From32Threads, double Batch32) ModelCeiling(string root)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(root, "models-onnx", "vit-fashion.onnx"));
        double Rate(int batch)
        {
            using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[batch * 28 * 28], [batch, 1, 28, 28]);
            var inputs = new Dictionary<string, Microsoft.ML.OnnxRuntime.OrtValue> { ["image"] = input };
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            int runs = Math.Max(16, 4096 / batch); // about 1 s at batch 1, 0.5 s at batch 32 on this VM
            return Throughput.Best(3, (long)runs * batch, () =>
            {
                for (int i = 0; i < runs; i++)
                {
                    session.Run(runOptions, inputs, session.OutputNames).Dispose();
                }
            });
        }

        double Concurrent(int threads)
        {
            double best = 0;
            for (int repeat = 0; repeat < 3; repeat++)
            {
                long rows = 0;
                var watch = Stopwatch.StartNew();
                var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
                {
                    using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[28 * 28], [1, 1, 28, 28]);
                    var inputs = new Dictionary<string, Microsoft.ML.OnnxRuntime.OrtValue> { ["image"] = input };
                    using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
                    while (watch.Elapsed < TimeSpan.FromSeconds(1))
                    {
                        session.Run(runOptions, inputs, session.OutputNames).Dispose();
                        Interlocked.Increment(ref rows);
                    }
                })).ToArray();
                foreach (var worker in workers)
                {
                    worker.Start();
                }

                foreach (var worker in workers)
                {
                    worker.Join();
                }

                best = Math.Max(best, rows / watch.Elapsed.TotalSeconds);
            }

            return best;
        }

        return (Rate(1), Concurrent(32), Rate(32));
    }

    private static Server StartServer(string root, string work, string url, int? slots)
    {
        string dll = Path.Combine(root, "samples", "MlNotes.Serving", "bin", "Release", "net10.0", "MlNotes.Serving.Sample.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the sample first: dotnet build -c Release samples/MlNotes.Serving (looked for {dll}).");
        }

        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { dll, "--urls", url, "--Serving:ModelFolder=" + Path.Combine(work, "models"), "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning" })
        {
            start.ArgumentList.Add(a);
        }

        if (slots is { } n)
        {
            start.ArgumentList.Add("--Serving:MaxConcurrentBatches=" + n.ToString(CultureInfo.InvariantCulture));
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) { Console.Error.WriteLine("server: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new Server(process);
        using var http = new HttpClient();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The sample server exited with {process.ExitCode}.");
            }

            try
            {
                if (http.GetStringAsync(new Uri(url + "/health")).GetAwaiter().GetResult() == "Healthy")
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                Thread.Sleep(250);
            }
        }

        server.Stop();
        throw new TimeoutException("The sample server did not answer /health within 120 s.");
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private sealed record WrkRun(double Rps, double P50Ms, double P99Ms, long Non2xx, long SocketErrors);

    /// <summary>The server process this scenario started; stopped (and only it) at the end.</summary>
    private sealed class Server(Process process) : IDisposable
    {
        public void Stop()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }

        public void Dispose()
        {
            Stop();
            process.Dispose();
        }
    }
}
