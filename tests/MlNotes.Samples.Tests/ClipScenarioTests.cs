using System.IO;
using System.Linq;
using MlNotes.Samples.Clip;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class ClipScenarioTests
{
    private static readonly byte[] s_pngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    [Fact]
    public void Scenario_ClassifiesZeroShot_SearchesByText_AndPredictsFromTheZips()
    {
        using var run = new SampleRun();

        var result = ClipScenario.Run(run.Context);

        // Quick mode (the first 300 subset images), measured: zero-shot 0.93 (279/300), +-0.01 (3 images)
        // for float differences on other CPUs; every one of the 4 queries' 8 nearest images is of the queried class.
        Assert.InRange(result.ZeroShotAccuracy, 0.92, 0.94);
        Assert.Equal(1.0, result.SearchPrecision);
        Assert.Equal("Coat", result.FirstPrediction); // 00000.png is a Coat; the zip's PredictionEngine classifies it
        Assert.True(File.Exists(result.ModelZip) && File.Exists(result.SearchZip));
        foreach (string picture in new[] { "clip-confusion.png", "clip-search.png" })
        {
            Assert.Contains(picture, run.Context.Report.Pictures);
            Assert.Equal(s_pngSignature, File.ReadAllBytes(Path.Combine(run.Context.OutputFolder, picture)).Take(8).ToArray());
        }
    }
}
