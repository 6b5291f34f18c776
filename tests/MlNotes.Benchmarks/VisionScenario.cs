using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Image;

namespace MlNotes.Benchmarks;

/// <summary>
/// Images/s of the whole pipeline (load PNG, preprocess, score) on the committed Fashion-MNIST subset with the notes' ViT:
/// MlNotes' ClassifyImageOnnx against LoadImages + ResizeImages + ExtractPixels + ApplyOnnxModel on the same graph, and raw
/// ONNX Runtime on pre-built tensors; and the share of MlNotes' time that is preprocessing.
/// </summary>
internal sealed class VisionScenario : IScenario
{
    public string Name => "vision";

    public string Description => "image pipeline images/s vs LoadImages+ResizeImages+ExtractPixels+ApplyOnnxModel (-- vision [repeats])";

    public int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0]) : 3;
        string root = FindRoot();
        string model = Path.Combine(root, "models-onnx", "vit-fashion.onnx");
        string folder = Path.Combine(root, "models-onnx", "data", "fashion-mnist-subset");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(ml.Data.LoadFromTextFile<ImageRow>(Path.Combine(folder, "labels.csv"), separatorChar: ',', hasHeader: true));
        long rows = data.GetColumn<string>(nameof(ImageRow.ImagePath)).LongCount();
        const float Mean = 0.286f, Std = 0.353f; // the manifest's; ExtractPixels computes (pixel + offset) * scale
        Console.WriteLine($"Vision benchmark: {rows} PNG images (28x28 grey), ViT {Path.GetFileName(model)}, best of {repeats}, {Environment.ProcessorCount} cores.");

        var load = ml.Transforms.LoadImages("Image", folder, nameof(ImageRow.ImagePath)).Fit(data);
        double decodeOnly = Throughput.Best(repeats, rows, () => Throughput.Drain<MLImage>(load.Transform(data), "Image"));

        using var mlNotes = ml.Transforms.ClassifyImageOnnx(model, batchSize: 128).Fit(load.Transform(data));
        double full = Throughput.Best(repeats, rows, () => Throughput.Drain<VBuffer<float>>(mlNotes.Transform(load.Transform(data)), "Score"));

        using var direct = ml.Transforms.ClassifyImageOnnx(new MlNotes.Transforms.Vision.OnnxImageClassifierEstimator.Options
        {
            ModelFile = model, InputColumnName = nameof(ImageRow.ImagePath), ImageFolder = folder, BatchSize = 128,
        }).Fit(data);
        double fromPaths = Throughput.Best(repeats, rows, () => Throughput.Drain<VBuffer<float>>(direct.Transform(data), "Score"));
        using var directParallel = ml.Transforms.ClassifyImageOnnx(new MlNotes.Transforms.Vision.OnnxImageClassifierEstimator.Options
        {
            ModelFile = model, InputColumnName = nameof(ImageRow.ImagePath), ImageFolder = folder, BatchSize = 128, IntraOpNumThreads = 1,
        }).Fit(data);
        double fromPathsParallel = Throughput.Best(repeats, rows, () => Throughput.DrainParallel(directParallel.Transform(data), "Score", 2));
        var raw8 = ml.Data.Cache(ml.Data.LoadFromEnumerable(ml.Data.CreateEnumerable<ImageRow>(data, false).Select(r =>
        {
            using var image = MLImage.CreateFromFile(Path.Combine(folder, r.ImagePath));
            var px = image.Pixels.ToArray();
            return new RawRow { Pixels = Enumerable.Range(0, 784).Select(i => px[(4 * i) + 1]).ToArray() };
        }).ToArray()));
        using var rawPixels = ml.Transforms.ClassifyImageOnnx(new MlNotes.Transforms.Vision.OnnxImageClassifierEstimator.Options
        {
            ModelFile = model, InputColumnName = nameof(RawRow.Pixels), RawPixelChannels = 1, BatchSize = 128,
        }).Fit(raw8);
        double fromBytes = Throughput.Best(repeats, rows, () => Throughput.Drain<VBuffer<float>>(rawPixels.Transform(raw8), "Score"));

        var reference = ml.Transforms.LoadImages("Image", folder, nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Resized", 28, 28, "Image"))
            .Append(ml.Transforms.ExtractPixels("image", "Resized", ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1f / (255f * Std), offsetImage: -Mean * 255f))
            .Append(ml.Transforms.ApplyOnnxModel("logits", "image", model))
            .Fit(data);
        double applyOnnxSingle = Throughput.Best(repeats, rows, () => Throughput.Drain<VBuffer<float>>(reference.Transform(data), "logits"));
        var referenceParallel = ml.Transforms.LoadImages("Image", folder, nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Resized", 28, 28, "Image"))
            .Append(ml.Transforms.ExtractPixels("image", "Resized", ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1f / (255f * Std), offsetImage: -Mean * 255f))
            .Append(ml.Transforms.ApplyOnnxModel(new Microsoft.ML.Transforms.Onnx.OnnxOptions
            {
                ModelFile = model, InputColumns = new[] { "image" }, OutputColumns = new[] { "logits" }, IntraOpNumThreads = 1,
            }))
            .Fit(data);
        double applyOnnxParallel = Throughput.Best(repeats, rows, () => Throughput.DrainParallel(referenceParallel.Transform(data), "logits", 2));
        double applyOnnx = Math.Max(applyOnnxSingle, applyOnnxParallel);

        var tensors = ml.Data.CreateEnumerable<Pixels>(reference.Transform(data), reuseRowObject: false).Select(p => p.image).ToArray();
        double raw;
        using (var session = new InferenceSession(model))
        {
            raw = Throughput.Best(repeats, rows, () => RawRuns(session, tensors, 128));
        }

        // MlNotes' whole pipeline (load, preprocess, score) at its best: the classifier reading the paths itself.
        // Preprocessing (grey/RGB conversion, resize, crop, normalization, packing the batch, softmax) is what the classifier
        // adds over raw ONNX Runtime when no image has to be decoded: the raw-pixel path's time minus the graph's.
        double best = Math.Max(Math.Max(full, fromPaths), fromPathsParallel);
        double fullSeconds = 1 / best, decodeSeconds = 1 / decodeOnly, rawSeconds = 1 / raw;
        double preprocessSeconds = Math.Max(0, (1 / fromBytes) - rawSeconds);
        double preprocessShare = preprocessSeconds / fullSeconds;
        Console.WriteLine();
        Console.WriteLine($"  {"path",-62} {"images/s",10}");
        Console.WriteLine($"  {"LoadImages alone (PNG decode)",-62} {decodeOnly,10:N0}");
        Console.WriteLine($"  {"LoadImages + ResizeImages + ExtractPixels + ApplyOnnxModel",-62} {applyOnnxSingle,10:N0}");
        Console.WriteLine($"  {"  the same, IntraOp=1, 2 cursors",-62} {applyOnnxParallel,10:N0}");
        Console.WriteLine($"  {"LoadImages + ClassifyImageOnnx (MlNotes, batch 128)",-62} {full,10:N0}");
        Console.WriteLine($"  {"ClassifyImageOnnx reading the PNG paths itself",-62} {fromPaths,10:N0}");
        Console.WriteLine($"  {"  the same, IntraOp=1, 2 cursors",-62} {fromPathsParallel,10:N0}");
        Console.WriteLine($"  {"ClassifyImageOnnx on raw pixel bytes (no decode)",-62} {fromBytes,10:N0}");
        Console.WriteLine($"  {"raw ONNX Runtime Run on pre-built tensors, batch 128",-62} {raw,10:N0}");
        Console.WriteLine($"  per image: PNG decode {decodeSeconds * 1e6:F1} us (LoadImages alone), graph {rawSeconds * 1e6:F1} us, preprocessing {preprocessSeconds * 1e6:F1} us, MlNotes pipeline {fullSeconds * 1e6:F1} us");
        Console.WriteLine($"  against ApplyOnnxModel's best setting: MlNotes with LoadImages in front {full / applyOnnx:F2}x; reading the paths itself {fromPaths / applyOnnx:F2}x; the same with 2 cursors {fromPathsParallel / applyOnnx:F2}x");
        Console.WriteLine($"RESULT vision mlnotes_vs_applyonnx={best / applyOnnx:F2} preprocess_share={preprocessShare:F2}");
        return 0;
    }

    internal static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MlNotes.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }

    private static void RawRuns(InferenceSession session, float[][] tensors, int batch)
    {
        using var options = new RunOptions();
        for (int start = 0; start < tensors.Length; start += batch)
        {
            int n = Math.Min(batch, tensors.Length - start);
            var buffer = new float[n * 784];
            for (int i = 0; i < n; i++)
            {
                tensors[start + i].CopyTo(buffer, i * 784);
            }

            using var input = OrtValue.CreateTensorValueFromMemory(buffer, new long[] { n, 1, 28, 28 });
            using var result = session.Run(options, new[] { "image" }, new[] { input }, new[] { "logits" });
        }
    }

    private sealed class ImageRow
    {
        [LoadColumn(0)]
        public string ImagePath { get; set; } = "";
    }

    private sealed class RawRow
    {
        [VectorType(784)]
        public byte[] Pixels { get; set; } = Array.Empty<byte>();
    }

    private sealed class Pixels
    {
        [VectorType(1, 28, 28)]
        public float[] image { get; set; } = Array.Empty<float>();
    }
}
