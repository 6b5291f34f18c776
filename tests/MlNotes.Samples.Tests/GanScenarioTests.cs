using System.IO;
using System.Linq;
using MlNotes.Samples.Gan;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class GanScenarioTests
{
    [Fact]
    public void Scenario_WritesTheGrids_AndTheFrechetDistancesOrderTheSets()
    {
        using var run = new SampleRun();

        var result = GanScenario.Run(run.Context);

        foreach (string png in new[] { result.GridPng, result.SideBySidePng })
        {
            var bytes = File.ReadAllBytes(png);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes.Take(8).ToArray());
        }

        // Quick mode: 200 images a set. Measured: real training images 2.83, the VAE 11.68, the GAN 18.05, the VQ-VAE's uniform codes
        // 60.11, noise 93.19: real images are closest, noise farthest, every model's samples between.
        var d = result.FrechetDistances;
        Assert.Equal(new[] { "real (train)", "VAE", "CVAE", "GAN", "VQ-VAE", "noise" }, d.Keys.ToArray());
        Assert.All(d.Keys.Where(k => k != "real (train)"), k => Assert.True(d["real (train)"] < d[k], $"{k}: {d[k]} vs real {d["real (train)"]}"));
        Assert.All(d.Keys.Where(k => k != "noise"), k => Assert.True(d[k] < d["noise"], $"{k}: {d[k]} vs noise {d["noise"]}"));
        Assert.Equal(200, result.Generated.Length);
        Assert.All(result.Generated, image => Assert.All(image, p => Assert.InRange(p, 0f, 1f)));
    }
}
