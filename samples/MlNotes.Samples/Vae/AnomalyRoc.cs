using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;

namespace MlNotes.Samples.Vae;

/// <summary>
/// The anomaly detectors' ROC curves (one PNG, drawn with OxyPlot): the VAE's -ELBO, its input-complexity correction, its likelihood
/// ratio against the background VAE, the energy of a ResNet trained on the 9 classes the VAE saw, and the ViT's energy (trained on
/// all 10, Ankle boots included: not a fair detector of that class), each on the held-out class (dashed) and on the glyphs (solid),
/// against the seen classes. Every VAE score at eps = 0; the thresholds are not involved (a ROC curve sweeps them all).
/// </summary>
internal static class AnomalyRoc
{
    /// <summary>Scores every detector, writes the PNG and returns each detector's AUROC on (held-out, glyphs).</summary>
    /// <param name="context">The tour's folders.</param>
    /// <param name="fashion">Fashion-MNIST image paths (relative to the subset) and whether each is of the held-out class.</param>
    /// <param name="glyphCount">How many of the committed glyphs to score.</param>
    /// <param name="path">The PNG to write.</param>
    public static IReadOnlyDictionary<string, (double HeldOut, double Glyphs)> Write(SampleContext context, IReadOnlyList<(string ImagePath, bool HeldOut)> fashion, int glyphCount, string path)
    {
        var ml = new MLContext(seed: 1);
        string glyphs = Path.Combine(context.ModelsOnnx, "data", "glyphs");
        var rows = fashion.Select(f => new Row { ImagePath = Path.Combine(context.FashionSubset, f.ImagePath), Kind = f.HeldOut ? 1 : 0 })
            .Concat(File.ReadLines(Path.Combine(glyphs, "labels.csv")).Skip(1).Take(glyphCount).Select(l => new Row { ImagePath = Path.Combine(glyphs, l.Split(',')[0]), Kind = 2 }))
            .ToArray();
        var paths = ml.Data.LoadFromEnumerable(rows);
        var images = ml.Transforms.LoadImages("Image", null, nameof(Row.ImagePath)).Fit(paths).Transform(paths);
        var seen = ml.Data.FilterRowsByColumn(images, nameof(Row.Kind), 0, 0.5);
        string encoder = context.Model("vae-fashion-encoder.onnx"), background = context.Model("vae-fashion-background-encoder.onnx");
        var detectors = new (string Name, Func<ITransformer> Fit, string Column)[]
        {
            ("-ELBO", () => Vae(ml, seen, encoder, VaeAnomalyScore.NegativeLogLikelihood, null), "Score"),
            ("input complexity", () => Vae(ml, seen, encoder, VaeAnomalyScore.InputComplexity, null), "Score"),
            ("likelihood ratio", () => Vae(ml, seen, encoder, VaeAnomalyScore.LikelihoodRatio, background), "Score"),
            ("ResNet-9 energy", () => ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
            {
                ModelFile = context.Model("resnet-fashion-seen.onnx"), EnergyColumnName = "Energy",
            }).Fit(seen), "Energy"),
            ("ViT energy", () => ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
            {
                ModelFile = context.Model("vit-fashion.onnx"), EnergyColumnName = "Energy",
            }).Fit(seen), "Energy"),
        };

        var kinds = rows.Select(r => (int)r.Kind).ToArray();
        var model = new PlotModel { Title = "Anomaly detection: ROC curves (dashed: the held-out class; solid: glyphs)", Background = OxyColors.White };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Minimum = 0, Maximum = 1, Title = "false positive rate (seen classes flagged)" });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Minimum = 0, Maximum = 1, Title = "true positive rate" });
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightBottom });
        var colors = new[] { OxyColors.Black, OxyColors.SteelBlue, OxyColors.DarkOrange, OxyColors.Crimson, OxyColors.SeaGreen };
        var aurocs = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        for (int d = 0; d < detectors.Length; d++)
        {
            var transformer = detectors[d].Fit();
            float[] scores;
            try
            {
                scores = transformer.Transform(images).GetColumn<float>(detectors[d].Column).ToArray();
            }
            finally
            {
                (transformer as IDisposable)?.Dispose();
            }

            var heldOut = Curve(scores, kinds, positive: 1);
            var glyph = Curve(scores, kinds, positive: 2);
            aurocs[detectors[d].Name] = (heldOut.Auc, glyph.Auc);
            model.Series.Add(Line($"{detectors[d].Name}, held-out (AUROC {heldOut.Auc:F3})", heldOut.Points, colors[d], LineStyle.Dash));
            model.Series.Add(Line($"{detectors[d].Name}, glyphs (AUROC {glyph.Auc:F3})", glyph.Points, colors[d], LineStyle.Solid));
        }

        var chance = Line("chance", new[] { new DataPoint(0, 0), new DataPoint(1, 1) }, OxyColors.Gray, LineStyle.Dot);
        model.Series.Add(chance);
        using (var stream = File.Create(path))
        {
            new PngExporter { Width = 900, Height = 640, UseTextShaping = false }.Export(model, stream);
        }

        return aurocs;
    }

    /// <summary>The ROC curve of the seen rows (kind 0) against the rows of <paramref name="positive"/>, higher scores flagged first; ties form one step.</summary>
    internal static (DataPoint[] Points, double Auc) Curve(float[] scores, int[] kinds, int positive)
    {
        var picked = scores.Select((s, i) => (Score: s, Positive: kinds[i] == positive, Keep: kinds[i] == 0 || kinds[i] == positive))
            .Where(p => p.Keep).OrderByDescending(p => p.Score).ToArray();
        double positives = picked.Count(p => p.Positive), negatives = picked.Length - positives;
        var points = new List<DataPoint> { new(0, 0) };
        double tp = 0, fp = 0, auc = 0;
        for (int i = 0; i < picked.Length;)
        {
            int j = i;
            double stepTp = 0, stepFp = 0;
            while (j < picked.Length && picked[j].Score.Equals(picked[i].Score))
            {
                stepTp += picked[j].Positive ? 1 : 0;
                stepFp += picked[j].Positive ? 0 : 1;
                j++;
            }

            // The trapezoid of a tie step counts its pairs 1/2, as the Mann-Whitney AUROC does.
            auc += stepFp / negatives * ((tp + (stepTp / 2)) / positives);
            tp += stepTp;
            fp += stepFp;
            points.Add(new DataPoint(fp / negatives, tp / positives));
            i = j;
        }

        return (points.ToArray(), auc);
    }

    private static LineSeries Line(string title, IEnumerable<DataPoint> points, OxyColor color, LineStyle style)
    {
        var series = new LineSeries { Title = title, Color = color, LineStyle = style, StrokeThickness = 2 };
        series.Points.AddRange(points);
        return series;
    }

    private static VaeAnomalyDetectorTransformer Vae(MLContext ml, IDataView seen, string encoder, VaeAnomalyScore score, string? background)
        => ml.Transforms.DetectAnomaliesVae(new VaeAnomalyDetectorEstimator.Options
        {
            ModelFile = encoder,
            AnomalyScore = score,
            BackgroundModelFile = background,
            UseLatentMean = true,
        }).Fit(seen);

    private sealed class Row
    {
        public string ImagePath { get; set; } = "";

        /// <summary>0: a seen class, 1: the held-out class, 2: a glyph.</summary>
        public float Kind { get; set; }
    }
}
