using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;

namespace MlNotes.Samples.Mdn;

/// <summary>
/// Mixture density networks on two problems with more than one plausible answer: Bishop's inverse problem (predict t from
/// x = t + 0.3 sin(2 pi t) + noise) and Old Faithful (waiting time from eruption duration). Trains, evaluates, saves and reloads
/// each model, and plots data, mean, 90% interval and mixture components to PNG files.
/// </summary>
public static class MdnScenario
{
    public static MdnScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string outputFolder = context.OutputFolder;
        bool quick = context.Quick;
        var ml = new MLContext(seed: 1);
        var plots = new List<string>();

        // 1. The inverse problem.
        var random = new Random(1);
        var inverse = Enumerable.Range(0, quick ? 600 : 2000).Select(_ =>
        {
            double t = random.NextDouble();
            return new MdnModelInput { X = (float)(t + 0.3 * Math.Sin(2 * Math.PI * t) + (random.NextDouble() * 0.2 - 0.1)), Label = (float)t };
        }).ToArray();
        var inverseTrain = inverse.Where((_, i) => i % 5 != 0).ToArray();
        var inverseTest = inverse.Where((_, i) => i % 5 == 0).ToArray();
        var (inverseNll, inverseModel) = TrainAndSave(context, ml, inverseTrain, inverseTest, components: 3, epochs: quick ? 150 : 300, hiddenUnits: 20, outputFolder, "mdn-inverse.zip");
        using (var model = new MdnModel(new MLContext(), inverseModel))
        {
            var atHalf = model.Predict(new MdnModelInput { X = 0.5f });
            context.Log($"Inverse problem: test NLL {inverseNll:F3} nats. At x = 0.5: mean {atHalf.Score:F3}, mode {atHalf.Mode:F3}, " +
                $"90% interval [{atHalf.LowerBound:F3}, {atHalf.UpperBound:F3}], components " +
                string.Join(", ", atHalf.MixtureWeights.Select((w, k) => $"{w:F2} x N({atHalf.MixtureMeans[k]:F3}, {atHalf.MixtureStandardDeviations[k]:F3}^2)")));
            string path = Path.Combine(outputFolder, "mdn-inverse.png");
            MdnPlot.Write(path, "Inverse problem: p(t | x), K = 3", "x", "t", inverse, Curve(model, 0f, 1f));
            plots.Add(path);
            context.Picture(path, "mdn: the inverse problem, p(t | x) with its mean, 90% band and component means");
        }

        // 2. Old Faithful, K = 1 against K = 3 on a fixed split (every fourth eruption is a test row).
        var faithful = FaithfulData.Rows.Select(r => new MdnModelInput { X = r.Eruptions, Label = r.Waiting }).ToArray();
        var faithfulTrain = faithful.Where((_, i) => i % 4 != 0).ToArray();
        var faithfulTest = faithful.Where((_, i) => i % 4 == 0).ToArray();
        var (nllOne, _) = TrainAndSave(context, ml, faithfulTrain, faithfulTest, components: 1, epochs: quick ? 100 : 300, hiddenUnits: 16, outputFolder, "mdn-faithful-k1.zip");
        var (nllThree, faithfulModel) = TrainAndSave(context, ml, faithfulTrain, faithfulTest, components: 3, epochs: quick ? 100 : 300, hiddenUnits: 16, outputFolder, "mdn-faithful-k3.zip");
        context.Log($"Old Faithful: test NLL K = 1 {nllOne:F3}, K = 3 {nllThree:F3} nats ({faithfulTest.Length} test eruptions).");
        int modes;
        using (var model = new MdnModel(new MLContext(), faithfulModel))
        {
            string path = Path.Combine(outputFolder, "mdn-faithful.png");
            MdnPlot.Write(path, "Old Faithful: waiting time given eruption duration, K = 3", "eruption duration (min)", "waiting time (min)", faithful,
                Curve(model, 1.5f, 5.2f));
            plots.Add(path);
            context.Picture(path, "mdn: Old Faithful, waiting time given eruption duration, K = 3");
        }

        using (var model = new MdnModel(new MLContext(), inverseModel))
        {
            modes = CountModes(model.Predict(new MdnModelInput { X = 0.5f }));
        }

        return new MdnScenarioResult(plots, inverseNll, nllOne, nllThree, modes);
    }

    private static (double TestNll, string ModelPath) TrainAndSave(SampleContext context, MLContext ml, MdnModelInput[] train, MdnModelInput[] test, int components, int epochs,
        int hiddenUnits, string folder, string fileName)
    {
        var trainData = ml.Data.LoadFromEnumerable(train);
        context.Print($"   training the MDN {Path.GetFileNameWithoutExtension(fileName)} (K = {components}, {epochs} epochs)");
        ITransformer model;
        using (var progress = new Report.TrainingProgress(ml, "MDN", epochs, context.Print))
        {
            model = MdnModel.BuildPipeline(ml, components, epochs, hiddenUnits).Fit(trainData);
            if (progress.Series.TryGetValue("training loss", out var loss))
            {
                string curves = Path.Combine(folder, Path.GetFileNameWithoutExtension(fileName) + "-training.png");
                Report.Charts.Curves(curves, $"{Path.GetFileNameWithoutExtension(fileName)}: training", progress.Series.Select(p => (p.Key, (IReadOnlyList<double>)p.Value)).ToList());
                context.Picture(curves, $"mdn: training curves of {Path.GetFileNameWithoutExtension(fileName)} (NLL per epoch, from the trainer's log)");
            }
        }

        var metrics = ml.Regression.EvaluateMdn(model.Transform(ml.Data.LoadFromEnumerable(test)));
        string path = Path.Combine(folder, fileName);
        ml.Model.Save(model, trainData.Schema, path);
        return (metrics.NegativeLogLikelihood, path);
    }

    private static List<(float X, MdnModelOutput Prediction)> Curve(MdnModel model, float from, float to)
        => Enumerable.Range(0, 121).Select(i =>
        {
            float x = from + i * (to - from) / 120;
            return (x, model.Predict(new MdnModelInput { X = x }));
        }).ToList();

    private static int CountModes(MdnModelOutput p)
    {
        int modes = 0;
        double previous = 0;
        bool rising = true;
        for (int i = 0; i <= 1000; i++)
        {
            double t = -0.25 + i * 1.5 / 1000;
            double density = 0;
            for (int k = 0; k < p.MixtureWeights.Length; k++)
            {
                double z = (t - p.MixtureMeans[k]) / p.MixtureStandardDeviations[k];
                density += p.MixtureWeights[k] * Math.Exp(-0.5 * z * z) / p.MixtureStandardDeviations[k];
            }

            if (density < previous && rising)
            {
                modes++;
            }

            rising = density >= previous;
            previous = density;
        }

        return modes;
    }
}
