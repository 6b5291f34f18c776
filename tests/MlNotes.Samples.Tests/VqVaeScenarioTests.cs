using System.IO;
using System.Linq;
using MlNotes.Samples.Vae;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class VqVaeScenarioTests
{
    [Fact]
    public void Scenario_WritesTheReconstructionsAndUsage_AndTheMlNetCodebookReconstructsAsWell()
    {
        using var run = new SampleRun();

        var result = VqVaeScenario.Run(run.Context);

        foreach (string png in new[] { result.ReconstructionsPng, result.UsagePng })
        {
            var bytes = File.ReadAllBytes(png);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes.Take(8).ToArray());
        }

        // Quick mode: the first 200 subset images. PyTorch's codebook reconstructs them with MSE 0.00720 (printed to 5 decimals; the
        // whole subset: 0.00710, models-onnx/metrics.json). ONNX Runtime's graphs match PyTorch within 1e-4 per value, so the mean of
        // squares moves by far less than the 5e-5 allowed here (which is the rounding of the printed figure, 5e-6, and margin).
        Assert.Equal(0.00720, result.TorchReconstructionMse, 5e-5);
        // The codebook trained in ML.NET on these images' own 9,800 latents quantizes them at least as well as PyTorch's (trained on
        // other images with the encoder moving under it): measured quantization MSE 0.08597 vs 0.09838, reconstruction MSE 0.00701 vs
        // 0.00720, all 64 codes used (perplexity 53.11).
        Assert.True(result.MlQuantizationMse <= result.TorchQuantizationMse, $"quantization MSE {result.MlQuantizationMse} vs {result.TorchQuantizationMse}");
        Assert.True(result.MlReconstructionMse < 1.2 * result.TorchReconstructionMse, $"reconstruction MSE {result.MlReconstructionMse} vs {result.TorchReconstructionMse}");
        Assert.Equal(64, result.MlCodesUsed);
    }
}
