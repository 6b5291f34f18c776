using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNotes.Transforms.Vision;

namespace MlNotes.Benchmarks;

/// <summary>
/// ResNet18 features/s from the same image files, each library as its users write it: ML.NET's recipe (LoadImages,
/// ResizeImages(224), ExtractPixels, DnnFeaturizeImage) against MlNotes' EncodeClipImage on ML.NET's pretrained ResNet18 over the
/// path column (MlNotes reads, decodes and resizes the images itself: Pillow's bilinear to 224, BGR, 0-255, the package's mean
/// image). For information it also runs MlNotes' transform behind ML.NET's LoadImages + ResizeImages (the prefix both then share).
/// Read through one cursor; rounds interleave the paths; each keeps its best.
/// </summary>
internal static class PeersResNet18
{
    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>Prints both rates and returns MlNotes' / ML.NET's.</summary>
    public static double Measure(MLContext ml, string imageFolder, int images, int repeats)
    {
        string models = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        var files = Directory.GetFiles(imageFolder, "*.png").OrderBy(f => f, StringComparer.Ordinal).Take(images)
            .Select(f => new ImageRow { ImagePath = Path.GetFileName(f) }).ToArray();
        var data = ml.Data.LoadFromEnumerable(files);
        float[] meanImage = MeanImage(Path.Combine(models, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
        var prefix = ml.Transforms.LoadImages("Image", imageFolder, nameof(ImageRow.ImagePath)).Append(ml.Transforms.ResizeImages("Image", 224, 224));
        var mlnet = prefix.Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
            .Append(ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"))
            .Fit(data).Transform(data);
        using var encoder = ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx"),
            InputColumnName = "Image",
            OutputColumnName = "Features",
            ChannelOrder = ChannelOrder.Bgr,
            PixelRange = PixelRange.ZeroTo255,
            MeanImage = meanImage,
            Normalize = false,
        }).Fit(prefix.Fit(data).Transform(data));
        var samePrefix = encoder.Transform(prefix.Fit(data).Transform(data));
        using var own = ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelFile = Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx"),
            InputColumnName = nameof(ImageRow.ImagePath),
            ImageFolder = imageFolder,
            OutputColumnName = "Features",
            Resize = ResizeKind.Exact,
            Interpolation = ResizeInterpolation.Bilinear,
            ChannelOrder = ChannelOrder.Bgr,
            PixelRange = PixelRange.ZeroTo255,
            MeanImage = meanImage,
            Normalize = false,
        }).Fit(data);
        var mlnotes = own.Transform(data);
        double bestMlNet = 0, bestMlNotes = 0, bestSamePrefix = 0, bestGraph = 0;
        Drain(mlnet);
        Drain(mlnotes);
        Drain(samePrefix);
        using var graph = new InferenceSession(Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx"));
        GraphAlone(graph, 4);
        for (int round = 0; round < repeats; round++)
        {
            bestMlNet = Math.Max(bestMlNet, Rate(mlnet, files.Length));
            bestMlNotes = Math.Max(bestMlNotes, Rate(mlnotes, files.Length));
            bestSamePrefix = Math.Max(bestSamePrefix, Rate(samePrefix, files.Length));
            bestGraph = Math.Max(bestGraph, GraphAlone(graph, files.Length));
        }

        Console.WriteLine($"  the ceiling: the ResNet18 graph alone (raw ONNX Runtime, batch 1 as the graph fixes it, default options, no image reading or preprocessing) " +
            $"{bestGraph:F1} images/s, {bestGraph / bestMlNet:F2}x ML.NET's whole pipeline");

        Console.WriteLine($"  ResNet18 features/s on {files.Length} images: ML.NET LoadImages + ResizeImages + ExtractPixels + DnnFeaturizeImage {bestMlNet:F1}, " +
            $"MlNotes EncodeClipImage from the files {bestMlNotes:F1}, ratio {bestMlNotes / bestMlNet:F2}; " +
            $"MlNotes behind ML.NET's LoadImages + ResizeImages (informative) {bestSamePrefix:F1}, ratio {bestSamePrefix / bestMlNet:F2}");
        return bestMlNotes / bestMlNet;
    }

    /// <summary>Images/s of the graph alone: <paramref name="images"/> batch-1 runs on one zero tensor.</summary>
    private static double GraphAlone(InferenceSession session, int images)
    {
        string input = session.InputMetadata.Keys.Single();
        using var tensor = OrtValue.CreateTensorValueFromMemory(new float[3 * 224 * 224], [1, 3, 224, 224]);
        var inputs = new System.Collections.Generic.Dictionary<string, OrtValue> { [input] = tensor };
        using var runOptions = new RunOptions();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < images; i++)
        {
            session.Run(runOptions, inputs, session.OutputNames).Dispose();
        }

        return images / watch.Elapsed.TotalSeconds;
    }

    private static double Rate(IDataView view, int rows)
    {
        var watch = Stopwatch.StartNew();
        Drain(view);
        return rows / watch.Elapsed.TotalSeconds;
    }

    private static void Drain(IDataView view) => Throughput.Drain<VBuffer<float>>(view, "Features");

    // The package's preprocessing graph on zeros is minus its mean image (CHW, BGR).
    private static float[] MeanImage(string prepGraph)
    {
        using var session = new InferenceSession(prepGraph);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("OriginalInput", new DenseTensor<float>(new[] { 1, 3, 224, 224 })) });
        return results.Single().AsEnumerable<float>().Select(v => -v).ToArray();
    }
}

/// <summary>The image half of the peers benchmark: <c>-- peers-images [repeats] [images]</c>, ending with its RESULT line.</summary>
internal sealed class PeersImagesScenario : IScenario
{
    public string Name => "peers-images";

    public string Description => "ResNet18 features/s, MlNotes vs ML.NET's DnnFeaturizeImage (-- peers-images [repeats] [images])";

    public int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
        int images = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64;
        string folder = Path.Combine(VisionScenario.FindRoot(), "models-onnx", "data", "fashion-mnist-subset");
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Console.WriteLine($"peers-images: {Environment.ProcessorCount} cores, best of {repeats} interleaved rounds, load average {load}.");
        double z = PeersResNet18.Measure(new MLContext(seed: 1), folder, images, repeats);
        Console.WriteLine(FormattableString.Invariant($"RESULT peers-images resnet18_vs_mlnet={z:F2}"));
        return 0;
    }
}
