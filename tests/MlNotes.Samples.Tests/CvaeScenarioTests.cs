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

        // Quick mode: the first 100 subset images; the classifier is deterministic (eps = 0).
        Assert.Equal(100, result.Images);
        Assert.Equal(100, result.Confusion.Sum(r => r.Sum()));
        Assert.Equal((int)System.Math.Round(result.GenerativeAccuracy * 100), Enumerable.Range(0, 10).Sum(i => result.Confusion[i][i]));
        Assert.InRange(result.GenerativeAccuracy, 0.0, 1.0);
        Assert.InRange(result.VitAccuracy, 0.0, 1.0);
    }
}
