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

            // At x = 0.5 the inverse problem has three branches (t near 0.21, 0.5 and 0.79); the K = 3 model finds all three.
            Assert.Equal(3, result.ModesAtHalf);

            // The scenario's seed is fixed (1), and its results are the same for every thread count tried (DOTNET_PROCESSOR_COUNT 1, 2, 4, 8, 16):
            // inverse NLL -0.84579, Old Faithful K = 1 3.23522, K = 3 3.18553 nats. Nudging one training label by one ulp moved them by at most
            // 1.3e-7, so training here is not chaotic; the windows (2e-3) leave 10,000x that for another CPU's float rounding.
            // (A different seed moves them by far more: over seeds 1-5, inverse -0.874 to -0.758, K = 1 3.198 to 3.313, K = 3 3.186 to 3.247.)
            Assert.Equal(-0.84579, result.InverseTestNll, 2e-3);
            Assert.Equal(3.23522, result.FaithfulTestNllOneComponent, 2e-3);
            Assert.Equal(3.18553, result.FaithfulTestNllThreeComponents, 2e-3);

            // K = 3 beats K = 1 on Old Faithful by 0.0497 nats with this seed. Waiting time given eruption duration is nearly unimodal, so the
            // gain is small and seed 5 reverses it (-0.049); the assertion is this scenario's claim for its seed, not a law of the data.
            Assert.True(result.FaithfulTestNllOneComponent - result.FaithfulTestNllThreeComponents > 0.045,
                $"K = 3 ({result.FaithfulTestNllThreeComponents:F4}) should beat K = 1 ({result.FaithfulTestNllOneComponent:F4}) by more than 0.045 nats");
            Assert.Contains(run.Context.Report.Pictures, p => p.EndsWith("-training.png", StringComparison.Ordinal));
        }
    }
}
