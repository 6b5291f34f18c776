using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.Vq;

namespace MlNotes.Samples.Vae;

/// <summary>
/// The notes' VQ-VAE on the committed Fashion-MNIST PNGs through ML.NET transforms: <c>EncodeVqVae</c> gives the encoder's grid of latent
/// vectors (7 x 7 per image, 16 values each) and each one's nearest code of the PyTorch-trained codebook (the image's 49 "tokens"), and
/// <c>ReconstructVqVae</c> decodes those codes with the per-row reconstruction error; then a codebook trained in
/// ML.NET (<c>Clustering.Trainers.VectorQuantizer</c>) on the same latents re-quantizes them, and the decoder reconstructs the images
/// through it. Writes originals above both reconstructions, and the usage of both codebooks' codes.
/// </summary>
public static class VqVaeScenario
{
    private const int Dim = 16;
    private const int Positions = 49;

    public static VqVaeScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string encoderFile = context.Model("vqvae-fashion-encoder.onnx"), decoderFile = context.Model("vqvae-fashion-decoder.onnx");
        var pixels = Directory.GetFiles(context.FashionSubset, "*.png").Order(StringComparer.Ordinal).Take(context.Quick ? 200 : int.MaxValue)
            .Select(Grey).ToArray();

        // EncodeVqVae: image -> the encoder's latents [7, 7, 16] (channels last, one unquantized vector per grid position) and
        // Codes, each position's nearest code of the PyTorch-trained codebook of the manifest: the image's 49 "tokens" (keys 1..64).
        var images = ml.Data.LoadFromEnumerable(pixels.Select(p => new ImageRow { Image = p }));
        float[][] latents, torchBook;
        int[][] torchCodes;
        using (var encoder = ml.Transforms.EncodeVqVae(new() { ModelFile = encoderFile, LatentsColumnName = "Latents" }).Fit(images))
        {
            var encoded = encoder.Transform(images);
            latents = encoded.GetColumn<float[]>("Latents").ToArray();
            torchCodes = encoded.GetColumn<VBuffer<uint>>("Codes").Select(c => c.DenseValues().Select(k => (int)k - 1).ToArray()).ToArray();
            torchBook = encoder.GetCodebook();
        }

        // The same latents' 49 x N vectors, quantized by a codebook of the same size trained in ML.NET.
        var vectors = ml.Data.LoadFromEnumerable(latents.SelectMany(l => Enumerable.Range(0, Positions).Select(p => new VectorRow { Features = l.AsSpan(p * Dim, Dim).ToArray() })));
        var quantizer = ml.Clustering.Trainers.VectorQuantizer(new VectorQuantizerTrainer.Options { CodebookSize = torchBook.Length, Seed = 1, NumberOfThreads = 2 }).Fit(vectors);
        var mlBook = quantizer.Model.GetCodebook();
        var mlCodes = latents.Select(l => Enumerable.Range(0, Positions).Select(p => quantizer.Model.Quantize(l.AsSpan(p * Dim, Dim))).ToArray()).ToArray();
        var usage = ml.Clustering.EvaluateCodebook(quantizer.Transform(vectors));

        // ReconstructVqVae: image -> codes -> DecodeVqVae's reconstruction through the manifest's codebook, and the per-row MSE.
        float[][] throughTorch;
        float[] torchErrors;
        using (var reconstructor = ml.Transforms.ReconstructVqVae(encoderFile).Fit(images))
        {
            var reconstructed = reconstructor.Transform(images);
            throughTorch = reconstructed.GetColumn<float[]>("Reconstruction").ToArray();
            torchErrors = reconstructed.GetColumn<float>("ReconstructionError").ToArray();
        }

        // The ML.NET codebook's code vectors [7, 7, 16] through the decoder graph as is (DecodeVqVae decodes the manifest's codebook).
        var mlRows = ml.Data.LoadFromEnumerable(mlCodes.Select(c => new CodesRow { Codes = c.SelectMany(k => mlBook[k]).ToArray() }));
        float[][] throughMl;
        using (var decoder = ml.Transforms.ApplyOnnxModelBatched(decoderFile, outputColumnNames: new[] { "reconstruction" }).Fit(mlRows))
        {
            throughMl = decoder.Transform(mlRows).GetColumn<float[]>("reconstruction").ToArray();
        }

        double torchMse = torchErrors.Average(e => (double)e), mlMse = Mse(pixels, throughMl);
        double torchQuantization = QuantizationError(latents, torchCodes, torchBook), mlQuantization = QuantizationError(latents, mlCodes, mlBook);
        var torchCounts = Counts(torchCodes, torchBook.Length);

        string reconstructionsPng = Path.Combine(context.OutputFolder, "vqvae-reconstructions.png");
        PngGrid.Write(reconstructionsPng, pixels.Take(10).Concat(throughTorch.Take(10)).Concat(throughMl.Take(10)).ToList(), columns: 10);
        string usagePng = Path.Combine(context.OutputFolder, "vqvae-codebook-usage.png");
        PngGrid.Write(usagePng, new[] { Bars(torchCounts), Bars(usage.Counts.ToArray()) }, columns: 2);
        context.Picture(reconstructionsPng, "vqvae: originals (top), reconstructed through the PyTorch codebook's codes (middle) and through the ML.NET-trained codebook's (bottom)");
        context.Picture(usagePng, $"vqvae: how often each of the {torchBook.Length} codes is used on these images, PyTorch codebook (left) and ML.NET's (right), one bar per code");
        context.Log($"vqvae: {pixels.Length} images, {pixels.Length * Positions:N0} latent vectors; tokens of the first image: {string.Join(" ", torchCodes[0].Take(14))} ...");
        context.Log($"vqvae: PyTorch codebook: reconstruction MSE {torchMse:F5}, quantization MSE {torchQuantization:F5}, {torchCounts.Count(c => c > 0)} of {torchBook.Length} codes used, perplexity {Perplexity(torchCounts):F2}");
        context.Log($"vqvae: ML.NET codebook:   reconstruction MSE {mlMse:F5}, quantization MSE {mlQuantization:F5}, {usage.CodesUsed} of {torchBook.Length} codes used, perplexity {usage.Perplexity:F2}");
        return new VqVaeScenarioResult(torchMse, mlMse, torchQuantization, mlQuantization, usage.CodesUsed, reconstructionsPng, usagePng);
    }

    private static double Mse(float[][] a, float[][] b) => a.Zip(b).Average(p => p.First.Zip(p.Second).Average(q => (q.First - q.Second) * (double)(q.First - q.Second)));

    private static double QuantizationError(float[][] latents, int[][] codes, float[][] book) => latents.Zip(codes).Average(p =>
        Enumerable.Range(0, Positions).Sum(i => Enumerable.Range(0, Dim).Sum(j => Math.Pow(p.First[(i * Dim) + j] - book[p.Second[i]][j], 2))) / Positions);

    private static long[] Counts(int[][] codes, int k)
    {
        var counts = new long[k];
        foreach (int c in codes.SelectMany(c => c))
        {
            counts[c]++;
        }

        return counts;
    }

    private static double Perplexity(long[] counts)
    {
        double total = counts.Sum();
        return Math.Exp(-counts.Where(c => c > 0).Sum(c => c / total * Math.Log(c / total)));
    }

    // A bar chart as a square grey image (dark = ink): one column per code, height proportional to its count.
    private static float[] Bars(long[] counts)
    {
        int side = counts.Length;
        var image = new float[side * side];
        long max = Math.Max(1, counts.Max());
        for (int k = 0; k < side; k++)
        {
            int height = (int)Math.Round((double)counts[k] / max * side);
            for (int y = side - height; y < side; y++)
            {
                image[(y * side) + k] = 1;
            }
        }

        return image;
    }

    // The PNGs are grey: every channel holds the same value; [0, 1] as the encoder takes it.
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
        [VectorType(1, 28, 28)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class CodesRow
    {
        [VectorType(7, 7, Dim)]
        [ColumnName("codes")]
        public float[] Codes { get; set; } = Array.Empty<float>();
    }

    private sealed class VectorRow
    {
        [VectorType(Dim)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}

/// <summary>What the scenario measured and wrote.</summary>
public sealed record VqVaeScenarioResult(double TorchReconstructionMse, double MlReconstructionMse, double TorchQuantizationMse, double MlQuantizationMse,
    int MlCodesUsed, string ReconstructionsPng, string UsagePng);
