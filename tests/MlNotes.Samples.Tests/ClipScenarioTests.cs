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

        Assert.True(result.ZeroShotAccuracy > 0.85, $"zero-shot accuracy {result.ZeroShotAccuracy:P2}");
        Assert.True(result.SearchPrecision >= 0.75, $"search precision@8 {result.SearchPrecision:P0}");
        Assert.False(string.IsNullOrEmpty(result.FirstPrediction));
        Assert.True(File.Exists(result.ModelZip) && File.Exists(result.SearchZip));
        foreach (string picture in new[] { "clip-confusion.png", "clip-search.png" })
        {
            Assert.Contains(picture, run.Context.Report.Pictures);
            Assert.Equal(s_pngSignature, File.ReadAllBytes(Path.Combine(run.Context.OutputFolder, picture)).Take(8).ToArray());
        }
    }
}
