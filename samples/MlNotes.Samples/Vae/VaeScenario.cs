using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Samples.Vision;

namespace MlNotes.Samples.Vae;

/// <summary>
/// The notes' VAE on the committed Fashion-MNIST PNGs: encode and decode (originals beside reconstructions), sample from
/// the prior, walk the latent line between two images (three PNG grids), and detect the class the VAE never saw
/// (Ankle boot) by its ELBO, evaluated with ML.NET's anomaly detection evaluator.
/// </summary>
public static class VaeScenario
{
    public static VaeScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ml = new MLContext(seed: 1);
        string folder = context.FashionSubset;
        string encoderFile = context.Model("vae-fashion-encoder.onnx"), decoderFile = context.Model("vae-fashion-decoder.onnx");
        int heldOut = HeldOutClass(context);
        var rows = ml.Data.CreateEnumerable<FashionModelInput>(ml.Data.LoadFromTextFile<FashionModelInput>(Path.Combine(folder, "labels.csv"), separatorChar: ',', hasHeader: true), reuseRowObject: false)
            .Take(context.Quick ? 400 : int.MaxValue)
            .Select(r => new VaeImage { ImagePath = r.ImagePath, LabelName = r.LabelName, IsAnomaly = r.Label == heldOut ? 1 : 0 })
            .ToArray();
        IDataView data = ml.Data.LoadFromEnumerable(rows);

        // Encode and decode in one pipeline: the reconstruction of each image from its posterior mean.
        var pipeline = ml.Transforms.LoadImages("Image", folder, nameof(VaeImage.ImagePath))
            .Append(ml.Transforms.EncodeVae(encoderFile))
            .Append(ml.Transforms.DecodeVae(decoderFile, inputColumnName: "LatentMean"));
        var model = pipeline.Fit(data);
        var decoded = model.Transform(ml.Data.TakeRows(data, 10));
        var originals = decoded.GetColumn<MLImage>("Image").Select(Grey).ToArray();
        var reconstructions = decoded.GetColumn<float[]>("Reconstruction").ToArray();
        var means = decoded.GetColumn<float[]>("LatentMean").ToArray();
        string reconstructionsPng = Path.Combine(context.OutputFolder, "vae-reconstructions.png");
        PngGrid.Write(reconstructionsPng, originals.Concat(reconstructions).ToList(), columns: originals.Length);

        // Generation without input rows: the decoder's prior samples and a latent interpolation, as views.
        var decoder = model.LastTransformer;
        string priorPng = Path.Combine(context.OutputFolder, "vae-prior-samples.png");
        PngGrid.Write(priorPng, decoder.SampleFromPrior(20, seed: 7).GetColumn<float[]>("Reconstruction").ToList(), columns: 10);
        string interpolationPng = Path.Combine(context.OutputFolder, "vae-interpolation.png");
        PngGrid.Write(interpolationPng, decoder.Interpolate(means[0], means[1], steps: 10).GetColumn<float[]>("Reconstruction").ToList(), columns: 10);
        context.Picture(reconstructionsPng, "vae: originals (top row) and their reconstructions (bottom row)");
        context.Picture(priorPng, "vae: 20 samples from the prior, z ~ N(0, I), decoded");
        context.Picture(interpolationPng, $"vae: a straight line in latent space from a {rows[0].LabelName} to a {rows[1].LabelName}");
        foreach (var transformer in model)
        {
            (transformer as IDisposable)?.Dispose();
        }

        // Anomaly detection: the threshold is the 95th percentile of -ELBO on the seen classes; eps = 0 keeps it deterministic.
        var images = ml.Transforms.LoadImages("Image", folder, nameof(VaeImage.ImagePath)).Fit(data);
        var seen = images.Transform(ml.Data.FilterByCustomPredicate<VaeImage>(data, r => r.IsAnomaly > 0));
        using var detector = ml.Transforms.DetectAnomaliesVae(encoderFile, useLatentMean: true).Fit(seen);
        var detected = detector.Transform(images.Transform(data));
        var metrics = ml.AnomalyDetection.Evaluate(detected, labelColumnName: nameof(VaeImage.IsAnomaly));
        var flagged = detected.GetColumn<bool>("PredictedLabel").ToArray();
        int heldOutFlagged = flagged.Where((_, i) => rows[i].IsAnomaly > 0).Count(f => f), seenFlagged = flagged.Where((_, i) => rows[i].IsAnomaly == 0).Count(f => f);
        using var scorer = ml.Transforms.ScoreVae(encoderFile, useLatentMean: true).Fit(images.Transform(data));
        var elbo = scorer.Transform(images.Transform(data)).GetColumn<float>("Elbo").ToArray();
        double seenElbo = elbo.Where((_, i) => rows[i].IsAnomaly == 0).Average(v => (double)v);
        double heldOutElbo = elbo.Where((_, i) => rows[i].IsAnomaly > 0).Average(v => (double)v);
        context.Log($"vae: mean ELBO {seenElbo:F2} nats on the seen classes, {heldOutElbo:F2} on the held-out {rows.First(r => r.IsAnomaly > 0).LabelName}s");
        context.Log($"vae: anomaly AUC {metrics.AreaUnderRocCurve:F4}; above the {detector.ThresholdPercentile}th percentile threshold ({detector.Threshold:F1} nats): {heldOutFlagged} of {rows.Count(r => r.IsAnomaly > 0)} held-out and {seenFlagged} of {rows.Count(r => r.IsAnomaly == 0)} seen images");

        // Every detector's ROC curve on the held-out class and on glyphs (letters and digits: not clothing at all), one PNG.
        string rocPng = Path.Combine(context.OutputFolder, "vae-anomaly-roc.png");
        var aurocs = AnomalyRoc.Write(context, rows.Select(r => (r.ImagePath, r.IsAnomaly > 0)).ToArray(), context.Quick ? 100 : 400, rocPng);
        context.Picture(rocPng, "vae: ROC curves of the anomaly scores (-ELBO, input complexity, likelihood ratio, the 9-class ResNet's and the ViT's energy) on the held-out class and on glyphs");
        foreach (var (name, (heldOutAuc, glyphsAuc)) in aurocs)
        {
            context.Log($"vae: {name,-17} AUROC held-out {heldOutAuc:F4}, glyphs {glyphsAuc:F4}");
        }

        return new VaeScenarioResult(metrics.AreaUnderRocCurve, seenElbo, heldOutElbo, reconstructionsPng, priorPng, interpolationPng, rocPng, aurocs);
    }

    private static int HeldOutClass(SampleContext context)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(context.Model("vae-fashion-encoder.json")));
        return document.RootElement.GetProperty("held_out_class").GetProperty("index").GetInt32();
    }

    // The PNGs are grey: every channel holds the same value, and the first byte of each pixel is it.
    private static float[] Grey(MLImage image)
    {
        var pixels = image.Pixels;
        var grey = new float[image.Width * image.Height];
        for (int i = 0; i < grey.Length; i++)
        {
            grey[i] = pixels[4 * i] / 255f;
        }

        return grey;
    }

    private sealed class VaeImage
    {
        public string ImagePath { get; set; } = "";

        public string LabelName { get; set; } = "";

        /// <summary>1 for the held-out class: the anomaly evaluator takes a Single label.</summary>
        public float IsAnomaly { get; set; }
    }
}

/// <summary>What the scenario measured and wrote.</summary>
public sealed record VaeScenarioResult(double Auc, double SeenElbo, double HeldOutElbo, string ReconstructionsPng, string PriorSamplesPng, string InterpolationPng,
    string RocPng, IReadOnlyDictionary<string, (double HeldOut, double Glyphs)> Aurocs);
