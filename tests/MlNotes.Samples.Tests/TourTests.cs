using System;
using System.IO;
using System.Linq;
using Xunit;

namespace MlNotes.Samples.Tests;

/// <summary>The README's main command, in quick mode: every scenario runs, and the report links every picture it wrote.</summary>
public sealed class TourTests
{
    [Fact]
    public void QuickTour_RunsEveryScenario_AndWritesTheReportWithItsPictures()
    {
        string output = Path.Combine(Path.GetTempPath(), "mlnotes-tour-" + Guid.NewGuid().ToString("N"));
        try
        {
            var main = typeof(SampleContext).Assembly.EntryPoint!;
            var writer = new StringWriter();
            var console = Console.Out;
            int exit;
            Console.SetOut(writer);
            try
            {
                exit = (int)main.Invoke(null, new object[] { new[] { "--quick", "--out", output } })!;
            }
            finally
            {
                Console.SetOut(console);
            }

            Assert.Equal(0, exit);
            string report = File.ReadAllText(Path.Combine(output, "report.md"));
            foreach (string scenario in new[] { "scoring", "vit", "resnet", "text", "vae", "vqvae", "cvae", "gan", "clip", "infonce", "mdn" })
            {
                Assert.Contains($"## {scenario}", report, StringComparison.Ordinal);
            }

            var pictures = Directory.GetFiles(output, "*.png").Select(Path.GetFileName).ToArray();
            Assert.Contains("vit-fashion-confusion.png", pictures);
            Assert.Contains("infonce-training.png", pictures);
            foreach (string? picture in pictures)
            {
                Assert.Contains($"]({picture})", report, StringComparison.Ordinal);
            }

            Assert.Contains("open " + Path.Combine(output, "report.md"), writer.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
