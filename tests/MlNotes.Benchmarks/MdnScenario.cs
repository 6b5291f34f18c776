using System;
using System.Globalization;
using System.IO;
using System.Linq;
using MlNotes.Trainers;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Numerics;

namespace MlNotes.Benchmarks;

/// <summary>
/// MDN training, MlNotes against PyTorch side by side: 100,000 rows x 16 features, K = 5, hidden [64, 64] tanh, batch 256, Adam 1e-3,
/// the same data file for both. Prints seconds per epoch and the final test NLL of each.
/// Options: --epochs N (default 10), --threads N (MlNotes, default 2), --rows N.
/// </summary>
internal sealed class MdnScenario : IScenario
{
    private const int Features = 16;
    private const int Components = 5;
    private const int Batch = 256;
    private const double LearningRate = 1e-3;
    private const double L2 = 1e-2;

    public string Name => "mdn";

    public string Description => "MDN training time per epoch and test NLL, MlNotes vs PyTorch (100k x 16, K=5, [64, 64], batch 256)";

    public int Run(string[] args)
    {
        int epochs = Option(args, "--epochs", 10);
        int threads = Option(args, "--threads", 2);
        int rows = Option(args, "--rows", 100_000);
        int testRows = rows / 5;
        var (xTrain, yTrain) = Generate(rows, seed: 1);
        var (xTest, yTest) = Generate(testRows, seed: 2);
        string file = Path.Combine(Path.GetTempPath(), $"mlnotes-mdn-{Environment.ProcessId}.bin");
        try
        {
            WriteData(file, xTrain, yTrain, xTest, yTest);
            Console.WriteLine($"MDN benchmark: {rows:N0} rows x {Features} features, K = {Components}, hidden [64, 64] tanh, batch {Batch}, {epochs} epochs; MlNotes {threads} threads, PyTorch 2 threads (OpenBLAS-OpenMP).");
            var (ours, ourNll) = RunMlNotes(xTrain, yTrain, xTest, yTest, epochs, threads);
            var (torch, torchNll) = TorchRunner.Run("mdn_torch.py", file, epochs, "test_nll");
            // The first epoch includes JIT and warm-up on both sides: compare the median of the others.
            double ourEpoch = TorchRunner.Median(ours.Skip(1));
            double torchEpoch = TorchRunner.Median(torch.Skip(1));
            Console.WriteLine();
            Console.WriteLine($"{"",-10} {"s/epoch (median)",18} {"first epoch",12} {"test NLL",10}");
            Console.WriteLine($"{"MlNotes",-10} {ourEpoch,18:F3} {ours[0],12:F3} {ourNll,10:F4}");
            Console.WriteLine($"{"PyTorch",-10} {torchEpoch,18:F3} {torch[0],12:F3} {torchNll,10:F4}");
            Console.WriteLine(FormattableString.Invariant($"RESULT mdn time_ratio_vs_torch={ourEpoch / torchEpoch:F3} nll_gap={ourNll - torchNll:F4}"));
            return 0;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static (double[] Seconds, double TestNll) RunMlNotes(float[] xTrain, float[] yTrain, float[] xTest, float[] yTest, int epochs, int threads)
    {
        var train = new MdnDataSet(xTrain, (float[])yTrain.Clone(), yTrain.Length);
        var test = new MdnDataSet(xTest, (float[])yTest.Clone(), yTest.Length);
        var (mean, scale) = MdnDataLoader.Standardization(train, 1);
        MdnDataLoader.Standardize(train, mean, scale);
        MdnDataLoader.Standardize(test, mean, scale);
        var network = new MdnNetwork<float>(Features, new[] { 64, 64 }, Activation.Tanh, new MdnHead(Components, 1, MdnSigmaTransform.Softplus, 1e-3));
        var parameters = new float[network.ParameterCount];
        var random = new SplitMix64(1);
        network.Initialize(parameters, ref random, new double[Components]);
        var optimizer = new MdnOptimizer(network, new MdnSchedule(epochs, Batch, LearningRate, L2, 0, threads, 7));
        var seconds = new double[epochs];
        optimizer.Train(parameters, train, null, Math.Log(scale[0]), e =>
        {
            seconds[e.Epoch - 1] = e.Seconds;
            Console.WriteLine($"  MlNotes epoch {e.Epoch}: {e.Seconds:F3} s, training loss {e.TrainingLoss:F4}");
        });
        return (seconds, optimizer.Evaluate(parameters, test) + Math.Log(scale[0]));
    }

    /// <summary>x ~ N(0, I); y is bimodal and heteroscedastic in x: +-tanh(a.x) with a sign set by b.x, plus noise scaled by |c.x|.</summary>
    private static (float[] X, float[] Y) Generate(int rows, ulong seed)
    {
        var random = new SplitMix64(seed);
        var directions = new SplitMix64(99);
        var a = Enumerable.Range(0, Features).Select(_ => directions.NextGaussian() / 4).ToArray();
        var b = Enumerable.Range(0, Features).Select(_ => directions.NextGaussian() / 4).ToArray();
        var c = Enumerable.Range(0, Features).Select(_ => directions.NextGaussian() / 4).ToArray();
        var x = new float[rows * Features];
        var y = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double da = 0, db = 0, dc = 0;
            for (int j = 0; j < Features; j++)
            {
                double v = random.NextGaussian();
                x[r * Features + j] = (float)v;
                da += a[j] * v;
                db += b[j] * v;
                dc += c[j] * v;
            }

            double branch = random.NextDouble() < Activations.Sigmoid(2 * db) ? 1 : -1;
            y[r] = (float)(branch * (1 + Math.Tanh(da)) + (0.1 + 0.3 * Math.Abs(dc)) * random.NextGaussian());
        }

        return (x, y);
    }

    private static void WriteData(string file, float[] xTrain, float[] yTrain, float[] xTest, float[] yTest)
    {
        using var writer = new BinaryWriter(File.Create(file));
        writer.Write(yTrain.Length);
        writer.Write(yTest.Length);
        writer.Write(Features);
        foreach (var array in new[] { xTrain, yTrain, xTest, yTest })
        {
            foreach (float v in array)
            {
                writer.Write(v);
            }
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
