using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Samples.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Samples.Gan;

/// <summary>
/// The notes' GAN through ML.NET: <c>GenerateImagesGan</c> makes n seeded images (a grid PNG), <c>ScoreRealismGan</c> scores real and
/// generated images with the discriminator, and <c>mlContext.Data.ComputeFrechetDistance</c> measures every generative model's
/// samples against the real test images in the bundled ViT's embedding space (the sample-quality table, and the models' samples
/// side by side in one PNG): real training images (the floor), the VAE's prior samples, the CVAE's (labels cycling through the classes), the GAN's, the VQ-VAE's decoded from
/// uniformly drawn codes (it has no prior over codes), and uniform noise (the ceiling).
/// </summary>
public static class GanScenario
{
    public static GanScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        int n = context.Quick ? 200 : 1000;
        var real = Pixels(context.FashionSubset, n);
        var train = Pixels(Path.Combine(context.ModelsOnnx, "data", "fashion-mnist-train-subset"), n);
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<ImageRow>());

        // GenerateImagesGan: row i's noise is drawn from (seed, i), so the same seed gives the same images whatever the batch size.
        float[][] gan;
        using (var generator = ml.Transforms.GenerateImagesGan(context.Model("gan-fashion-generator.onnx"), seed: 1).Fit(empty))
        {
            gan = generator.Generate(n).GetColumn<float[]>("Image").ToArray();
        }

        // ScoreRealismGan: the discriminator's probability that an image is real, on real test images and on generated ones.
        float[] realRealism, ganRealism;
        var realRows = ml.Data.LoadFromEnumerable(real.Select(p => new ImageRow { Image = p }));
        var ganRows = ml.Data.LoadFromEnumerable(gan.Select(p => new ImageRow { Image = p }));
        using (var discriminator = ml.Transforms.ScoreRealismGan(context.Model("gan-fashion-discriminator.onnx")).Fit(realRows))
        {
            realRealism = discriminator.Transform(realRows).GetColumn<float>("Realism").ToArray();
            ganRealism = discriminator.Transform(ganRows).GetColumn<float>("Realism").ToArray();
        }

        float[][] vae;
        using (var decoder = ml.Transforms.DecodeVae(context.Model("vae-fashion-decoder.onnx")).Fit(ml.Data.LoadFromEnumerable(Array.Empty<LatentRow>())))
        {
            vae = decoder.SampleFromPrior(n, seed: 1).GetColumn<float[]>("Reconstruction").ToArray();
        }

        // The CVAE: labels cycling through the 10 classes (Fashion-MNIST's are balanced: its class priors are equal), z seeded per row.
        float[][] cvae;
        var labelRows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, n).Select(i => new LabelRow { Label = i % 10 }));
        using (var generator = ml.Transforms.GenerateCvae(context.Model("cvae-fashion-decoder.onnx"), seed: 1).Fit(labelRows))
        {
            cvae = generator.Transform(labelRows).GetColumn<float[]>("GeneratedImage").ToArray();
        }

        var random = new Random(1);
        var codes = Enumerable.Range(0, n).Select(_ => new CodesRow { Codes = Enumerable.Range(0, 49).Select(_ => (uint)random.Next(1, 65)).ToArray() }).ToArray();
        var codeRows = ml.Data.LoadFromEnumerable(codes);
        float[][] vqvae;
        using (var decoder = ml.Transforms.DecodeVqVae(context.Model("vqvae-fashion-decoder.onnx")).Fit(codeRows))
        {
            vqvae = decoder.Transform(codeRows).GetColumn<float[]>("Reconstruction").ToArray();
        }

        var noise = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();

        // The Fréchet distance in the ViT's embedding space: every set through the same classifier (pixels in [0, 1]: Scale 1).
        using var vit = ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options { ModelFile = context.Model("vit-fashion.onnx"), Scale = 1.0 }).Fit(realRows);
        IDataView Embed(float[][] images) => ml.Data.Cache(vit.Transform(ml.Data.LoadFromEnumerable(images.Select(p => new ImageRow { Image = p }))), "Embedding");
        var reference = Embed(real);
        var sets = new (string Name, string What, float[][] Images)[]
        {
            ("real (train)", "real training images: the floor", train),
            ("VAE", "the VAE's prior samples, z ~ N(0, I), decoded (pixel probabilities); trained without Ankle boots", vae),
            ("CVAE", "the CVAE's samples, labels cycling through the classes, z ~ N(0, I), decoded (pixel probabilities)", cvae),
            ("GAN", "the GAN's samples, z ~ N(0, I)", gan),
            ("VQ-VAE", "the VQ-VAE decoding uniformly drawn codes (it has no prior over codes)", vqvae),
            ("noise", "uniform noise: the ceiling", noise),
        };
        var distances = new Dictionary<string, double>(StringComparer.Ordinal);
        context.Log($"gan: sample quality, Fréchet distance to {n} real test images in the ViT's embedding space (64 values; lower is closer; {n} images a set):");
        foreach (var (name, what, images) in sets)
        {
            distances[name] = ml.Data.ComputeFrechetDistance(reference, Embed(images));
            context.Log($"gan:   {name,-13} {distances[name],9:F3}   {what}");
        }

        string gridPng = Path.Combine(context.OutputFolder, "gan-samples.png");
        PngGrid.Write(gridPng, gan.Take(40).ToList(), columns: 10);
        string sideBySidePng = Path.Combine(context.OutputFolder, "gan-sample-quality.png");
        PngGrid.Write(sideBySidePng, real.Take(10).Concat(vae.Take(10)).Concat(cvae.Take(10)).Concat(gan.Take(10)).Concat(vqvae.Take(10)).ToList(), columns: 10);
        context.Picture(gridPng, "gan: 40 images of GenerateImagesGan (seed 1)");
        context.Picture(sideBySidePng, "gan: real test images, then the VAE's, the CVAE's (one per class), the GAN's and the VQ-VAE's (uniform codes) samples, a row each");
        double realMean = realRealism.Average(), ganMean = ganRealism.Average();
        context.Log($"gan: discriminator realism, mean sigmoid(logit): real test images {realMean:F3} ({realRealism.Count(r => r > 0.5) / (double)n:P0} above 0.5), "
            + $"generated {ganMean:F3} ({ganRealism.Count(r => r > 0.5) / (double)n:P0} above 0.5)");
        return new GanScenarioResult(gridPng, sideBySidePng, realMean, ganMean, distances, gan);
    }

    private static float[][] Pixels(string folder, int count) => Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).Take(count).Select(Grey).ToArray();

    private static float[] Grey(string file)
    {
        using var image = MLImage.CreateFromFile(file);
        var px = image.Pixels;
        var grey = new float[image.Width * image.Height];
        for (int i = 0; i < grey.Length; i++)
        {
            grey[i] = px[4 * i] / 255f;
        }

        return grey;
    }

    private sealed class ImageRow
    {
        [VectorType(784)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class LabelRow
    {
        public int Label { get; set; }
    }

    private sealed class LatentRow
    {
        [VectorType(16)]
        public float[] Latent { get; set; } = Array.Empty<float>();
    }

    private sealed class CodesRow
    {
        [KeyType(64)]
        [VectorType(49)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();
    }
}

/// <summary>What the GAN scenario measured, for its test.</summary>
public sealed record GanScenarioResult(string GridPng, string SideBySidePng, double RealRealism, double GeneratedRealism,
    IReadOnlyDictionary<string, double> FrechetDistances, float[][] Generated);
