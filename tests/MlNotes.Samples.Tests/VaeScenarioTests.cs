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

        // Quick mode: the first 400 subset images (365 seen, 35 Ankle boots), ELBO at the latent mean (eps = 0, deterministic).
        // Measured, identical over two runs: seen -239.0646, held-out -238.3633 nats, AUC 0.50458. The ELBO means agree with
        // PyTorch within 0.006 nats (VaeAnomalyDetectorTests), hence +-0.02 here; one swapped seen/held-out pair moves the AUC by
        // 1/(365 x 35) = 7.8e-5, and +-0.002 allows about 25 such swaps from float differences on other CPUs.
        Assert.Equal(-239.0646, result.SeenElbo, 0.02);
        Assert.Equal(-238.3633, result.HeldOutElbo, 0.02);
        Assert.Equal(0.50458, result.Auc, 0.002);
        // On this slice the VAE does not separate the held-out class: its mean ELBO is 0.70 nats ABOVE the seen classes' (on the
        // whole 2,000-image subset it is 2.85 below, AUC 0.519: models-onnx/metrics.json), and the AUC is barely over chance.
        Assert.InRange(result.HeldOutElbo - result.SeenElbo, 0.66, 0.74);
        Assert.True(result.Auc > 0.5, $"AUC {result.Auc:F4}");

        // The ROC curves (OxyPlot PNG): the -ELBO curve's area on the held-out class is the ML.NET evaluator's AUC on the same rows
        // (an independent computation of the same number; both count ties 1/2); every detector tells glyphs from clothing far
        // better than the held-out class, and the best glyph detector meets issue 22's 0.95 on this slice too.
        var png2 = File.ReadAllBytes(result.RocPng);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png2.Take(8).ToArray());
        Assert.Equal(new[] { "-ELBO", "input complexity", "likelihood ratio", "ResNet-9 energy", "ViT energy" }, result.Aurocs.Keys.ToArray());
        Assert.Equal(result.Auc, result.Aurocs["-ELBO"].HeldOut, 1e-6);
        Assert.True(result.Aurocs.Values.Max(a => a.Glyphs) >= 0.95, string.Join(", ", result.Aurocs.Select(a => $"{a.Key} {a.Value.Glyphs:F4}")));
    }
}
