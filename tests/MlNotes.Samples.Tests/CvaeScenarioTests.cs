using System.IO;
using System.Linq;
using MlNotes.Samples.Cvae;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class CvaeScenarioTests
{
    [Fact]
    public void Scenario_WritesTheClassGrid_AndEvaluatesTheGenerativeClassifierNextToTheVit()
    {
        using var run = new SampleRun();

        var result = CvaeScenario.Run(run.Context);

        foreach (string png in new[] { result.GridPng, result.ConfusionPng })
        {
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 100, $"{png}: {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes.Take(8).ToArray());
        }

        // Quick mode: the first 50 subset images; the classifier is deterministic (eps = 0).
        Assert.Equal(50, result.Images);
        Assert.Equal(50, result.Confusion.Sum(r => r.Sum()));
        Assert.Equal((int)System.Math.Round(result.GenerativeAccuracy * 50), Enumerable.Range(0, 10).Sum(i => result.Confusion[i][i]));
        // Measured: 43 of 50 for the generative classifier, 45 of 50 for the ViT (on the whole subset: 85.30 % and 91.15 %,
        // models-onnx/metrics.json's cvae.subset_classifier_accuracy and vit.subset_accuracy, the confusion matrix cell for cell).
        Assert.Equal(0.86, result.GenerativeAccuracy, 1e-9);
        Assert.Equal(0.90, result.VitAccuracy, 1e-9);
        Assert.True(result.VitAccuracy > result.GenerativeAccuracy);
    }
}
