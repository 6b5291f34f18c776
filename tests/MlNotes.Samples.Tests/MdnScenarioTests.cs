using System;
using System.IO;
using System.Linq;
using MlNotes.Samples.Mdn;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Samples.Tests;

public sealed class MdnScenarioTests
{
    private static readonly byte[] s_pngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
    private readonly ITestOutputHelper _output;

    public MdnScenarioTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Quick_run_writes_the_plots()
    {
        using var run = new SampleRun();
        {
            var result = MdnScenario.Run(run.Context);
            _output.WriteLine($"inverse NLL {result.InverseTestNll:F3}, Faithful K=1 {result.FaithfulTestNllOneComponent:F3}, K=3 {result.FaithfulTestNllThreeComponents:F3}, modes at 0.5: {result.ModesAtHalf}");
            Assert.Equal(new[] { "mdn-faithful.png", "mdn-inverse.png" }, result.PlotPaths.Select(Path.GetFileName).Order().ToArray());
            foreach (string plot in result.PlotPaths)
            {
                var bytes = File.ReadAllBytes(plot);
                Assert.True(bytes.Length > 10_000, $"{plot} has {bytes.Length} bytes");
                Assert.Equal(s_pngSignature, bytes.Take(8).ToArray());
            }

            Assert.True(result.ModesAtHalf >= 2);
            Assert.True(double.IsFinite(result.FaithfulTestNllOneComponent) && double.IsFinite(result.FaithfulTestNllThreeComponents));
            Assert.Contains(run.Context.Report.Pictures, p => p.EndsWith("-training.png", StringComparison.Ordinal));
        }
    }
}
