using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using MlNotes.Trainers.Vq;

namespace MlNotes.Benchmarks;

/// <summary>
/// The vector quantizer against ML.NET's KMeans on the same vectors and codebook size: the ViT's embeddings of the 2,000 committed
/// test images (64-d), and the VQ-VAE encoder's latent vectors of the same images (49 per image, 16-d: 98,000 vectors). Both fit on
/// 2 threads, in interleaved rounds (a burst of load hits both sides alike); per data set it prints the mean squared quantization error
/// (<c>mlContext.Clustering.Evaluate</c>'s AverageDistance, on the training vectors), the codes used and the median fit time.
/// RESULT: the worse of the two data sets' ratios (error and time, VectorQuantizer / KMeans) and the dead codes summed over both.
/// Options: -- vq [rounds] (default 3).
/// </summary>
internal sealed class VqScenario : IScenario
{
    private const int CodebookSize = 64;
    private const int Threads = 2;

    public string Name => "vq";

    public string Description => "VectorQuantizer vs ML.NET KMeans: quantization error, codes used, fit time (ViT embeddings, VQ-VAE latents; -- vq [rounds])";

    public int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        string root = VisionScenario.FindRoot();
        string folder = Path.Combine(root, "models-onnx", "data", "fashion-mnist-subset");
        var ml = new MLContext(seed: 1);
        Console.WriteLine($"VQ benchmark: K = {CodebookSize}, {Threads} threads each, {rounds} interleaved rounds, {Environment.ProcessorCount} cores, load average {LoadAverage()}.");

        var pixels = Directory.GetFiles(folder, "*.png").OrderBy(f => f, StringComparer.Ordinal).Select(f =>
        {
            using var image = MLImage.CreateFromFile(f);
            var px = image.Pixels.ToArray();
            return Enumerable.Range(0, 784).Select(i => px[(4 * i) + 1] / 255f).ToArray();
        }).ToArray();
        var sets = new List<(string Name, float[][] Vectors)>
        {
            ("ViT embeddings", VitEmbeddings(ml, root, pixels)),
            ("VQ-VAE latents", VqVaeLatents(ml, root, pixels)),
        };

        double worstError = 0, worstTime = 0;
        int dead = 0;
        Console.WriteLine();
        Console.WriteLine($"  {"data",-16} {"vectors",9} {"dim",4} {"method",-16} {"MSE",10} {"codes used",11} {"fit s (median)",15} {"fit s (all)",24}");
        foreach (var (name, vectors) in sets)
        {
            int d = vectors[0].Length;
            var schema = SchemaDefinition.Create(typeof(VectorRow));
            schema[nameof(VectorRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
            var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(vectors.Select(v => new VectorRow { Features = v }), schema));
            Throughput.Drain<VBuffer<float>>(data, nameof(VectorRow.Features));
            var methods = new (string Name, Func<IEstimator<ITransformer>> Make)[]
            {
                ("VectorQuantizer", () => ml.Clustering.Trainers.VectorQuantizer(new VectorQuantizerTrainer.Options
                {
                    CodebookSize = CodebookSize, NumberOfThreads = Threads, Seed = 1,
                })),
                ("KMeans", () => ml.Clustering.Trainers.KMeans(new KMeansTrainer.Options
                {
                    NumberOfClusters = CodebookSize, NumberOfThreads = Threads,
                })),
            };
            var times = methods.ToDictionary(m => m.Name, _ => new List<double>());
            var last = new Dictionary<string, ITransformer>();
            foreach (var (_, make) in methods)
            {
                make().Fit(data); // warm-up, untimed: JIT and first-touch costs stay out of both sides' times
            }

            for (int round = 0; round < rounds; round++)
            {
                foreach (var (method, make) in round % 2 == 0 ? methods : methods.Reverse())
                {
                    var clock = Stopwatch.StartNew();
                    last[method] = make().Fit(data);
                    times[method].Add(clock.Elapsed.TotalSeconds);
                }
            }

            var error = new Dictionary<string, double>();
            foreach (var (method, _) in methods)
            {
                var scored = last[method].Transform(data);
                error[method] = ml.Clustering.Evaluate(scored, scoreColumnName: "Score", featureColumnName: nameof(VectorRow.Features)).AverageDistance;
                var usage = ml.Clustering.EvaluateCodebook(scored);
                double median = Median(times[method]);
                Console.WriteLine($"  {name,-16} {vectors.Length,9:N0} {d,4} {method,-16} {error[method],10:G5} {usage.CodesUsed,7} / {CodebookSize} " +
                    $"{median,15:F3} {string.Join(" ", times[method].Select(t => t.ToString("F3", CultureInfo.InvariantCulture))),24}");
                if (method == "VectorQuantizer")
                {
                    dead += usage.DeadCodes;
                }
            }

            worstError = Math.Max(worstError, error["VectorQuantizer"] / error["KMeans"]);
            worstTime = Math.Max(worstTime, Median(times["VectorQuantizer"]) / Median(times["KMeans"]));
        }

        Console.WriteLine();
        Console.WriteLine($"load average at the end {LoadAverage()}");
        Console.WriteLine(FormattableString.Invariant($"RESULT vq mse_vs_kmeans={worstError:F4} time_vs_kmeans={worstTime:F3} dead_codes={dead}"));
        return 0;
    }

    private static float[][] VitEmbeddings(MLContext ml, string root, float[][] pixels)
    {
        // The ViT's input is normalized (manifest: mean 0.2860, std 0.3530); the classifier transform takes it as a preprocessed vector.
        var rows = pixels.Select(p => new ImageVector { Image = p.Select(v => (v - 0.2860f) / 0.3530f).ToArray() }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(Path.Combine(root, "models-onnx", "vit-fashion.onnx"), outputColumnNames: new[] { "embedding" }).Fit(data);
        return scorer.Transform(data).GetColumn<float[]>("embedding").ToArray();
    }

    private static float[][] VqVaeLatents(MLContext ml, string root, float[][] pixels)
    {
        var data = ml.Data.LoadFromEnumerable(pixels.Select(p => new ImageVector { Image = p }));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(Path.Combine(root, "models-onnx", "vqvae-fashion-encoder.onnx"), outputColumnNames: new[] { "latents" }).Fit(data);
        var grids = scorer.Transform(data).GetColumn<float[]>("latents").ToArray(); // (7, 7, 16) per image, channels last
        const int D = 16;
        return grids.SelectMany(g => Enumerable.Range(0, g.Length / D).Select(i => g.AsSpan(i * D, D).ToArray())).ToArray();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private sealed class ImageVector
    {
        [VectorType(1, 28, 28)]
        [ColumnName("image")] // the graph's input tensor
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class VectorRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
