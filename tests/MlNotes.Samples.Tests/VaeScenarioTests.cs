using System.IO;
using System.Linq;
using MlNotes.Samples.Vae;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class VaeScenarioTests
{
    [Fact]
    public void Scenario_WritesThreePngGrids_AndMeasuresTheAnomalyDetector()
    {
        using var run = new SampleRun();

        var result = VaeScenario.Run(run.Context);

        foreach (string png in new[] { result.ReconstructionsPng, result.PriorSamplesPng, result.InterpolationPng })
        {
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 100, $"{png}: {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes.Take(8).ToArray());
        }

        Assert.InRange(result.Auc, 0.0, 1.0);
        Assert.True(result.SeenElbo < 0 && result.HeldOutElbo < 0, $"ELBOs {result.SeenElbo}, {result.HeldOutElbo}");
    }
}
