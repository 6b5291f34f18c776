using System;
using System.Globalization;
using System.IO;
using System.Linq;
using MlNotes.Trainers;
using MlNotes.Trainers.InfoNce;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Benchmarks;

/// <summary>
/// InfoNCE training, MlNotes against PyTorch side by side: 50,000 pairs, 128-d A and 96-d B projected linearly to 64-d, batch 256, Adam 1e-3,
/// learned clamped logit scale; the same data file for both. Prints seconds per epoch and validation recall@1 (5,000 held-out pairs).
/// Options: --epochs N (default 8), --threads N (MlNotes, default 2), --rows N.
/// </summary>
internal sealed class InfoNceScenario : IScenario
{
    private const int SizeA = 128;
    private const int SizeB = 96;
    private const int Embedding = 64;
    private const int Batch = 256;

    public string Name => "infonce";

    public string Description => "InfoNCE training time per epoch and validation recall@1, MlNotes vs PyTorch (50k pairs, 128/96 -> 64, batch 256)";

    public int Run(string[] args)
    {
        int epochs = Option(args, "--epochs", 8);
        int threads = Option(args, "--threads", 2);
        int rows = Option(args, "--rows", 50_000);
        var train = Generate(rows, seed: 1);
        var valid = Generate(5_000, seed: 2);
        string file = Path.Combine(Path.GetTempPath(), $"mlnotes-infonce-{Environment.ProcessId}.bin");
        try
        {
            using (var writer = new BinaryWriter(File.Create(file)))
            {
                writer.Write(train.Rows);
                writer.Write(valid.Rows);
                writer.Write(SizeA);
                writer.Write(SizeB);
                foreach (var array in new[] { train.A, train.B, valid.A, valid.B })
                {
                    foreach (float v in array)
                    {
                        writer.Write(v);
                    }
                }
            }

            Console.WriteLine($"InfoNCE benchmark: {rows:N0} pairs, A {SizeA}-d and B {SizeB}-d -> {Embedding}-d linear heads, batch {Batch}, {epochs} epochs; " +
                $"MlNotes {threads} threads, PyTorch 2 threads (OpenBLAS-OpenMP).");
            var network = new InfoNceNetwork<float>(SizeA, SizeB, Array.Empty<int>(), Embedding, Activation.Relu);
            var parameters = new float[network.ParameterCount];
            var random = new SplitMix64(1);
            network.Initialize(parameters, ref random, Math.Log(1 / 0.07));
            var optimizer = new InfoNceOptimizer(network, new InfoNceSchedule(epochs, Batch, 1e-3, Math.Log(100), true, 0, threads > 1, 7));
            var ours = new double[epochs];
            optimizer.Train(parameters, train, null, e =>
            {
                ours[e.Epoch - 1] = e.Seconds;
                Console.WriteLine($"  MlNotes epoch {e.Epoch}: {e.Seconds:F3} s, loss {e.Loss:F4}, logit scale {e.LogitScale:F2}");
            });
            double ourRecall = optimizer.RecallAt1(parameters, valid);
            var (torch, torchRecall) = TorchRunner.Run("infonce_torch.py", file, epochs, "recall_at_1");
            double ourEpoch = TorchRunner.Median(ours.Skip(1));
            double torchEpoch = TorchRunner.Median(torch.Skip(1));
            Console.WriteLine();
            Console.WriteLine($"{"",-10} {"s/epoch (median)",18} {"first epoch",12} {"recall@1",10}");
            Console.WriteLine($"{"MlNotes",-10} {ourEpoch,18:F3} {ours[0],12:F3} {ourRecall,10:F4}");
            Console.WriteLine($"{"PyTorch",-10} {torchEpoch,18:F3} {torch[0],12:F3} {torchRecall,10:F4}");
            Console.WriteLine(FormattableString.Invariant($"RESULT infonce time_ratio_vs_torch={ourEpoch / torchEpoch:F3} recall_gap={ourRecall - torchRecall:F4}"));
            return 0;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A ~ N(0, I); B = M A / sqrt(128) + noise (1.5), M a fixed Gaussian 96 x 128 map: a retrieval task that is learnable but not trivial.</summary>
    private static InfoNceDataSet Generate(int rows, ulong seed)
    {
        var mapRandom = new SplitMix64(99);
        var m = Enumerable.Range(0, SizeB * SizeA).Select(_ => (float)mapRandom.NextGaussian()).ToArray();
        var random = new SplitMix64(seed);
        var a = new float[rows * SizeA];
        var b = new float[rows * SizeB];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)random.NextGaussian();
        }

        var mt = new float[SizeA * SizeB];
        Gemm.Transpose<float>(m, mt, SizeB, SizeA);
        Gemm.Multiply<float>(a, mt, b, rows, SizeA, SizeB, accumulate: false);
        float norm = 1 / MathF.Sqrt(SizeA);
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = b[i] * norm + 1.5f * (float)random.NextGaussian();
        }

        return new InfoNceDataSet(a, b, null, rows);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
