using MlNotes.Samples.InfoNce;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class AlignmentScenarioTests
{
    [Fact]
    public void Scenario_AlignsTheTwoEncoders_AndClassifiesZeroShotAboveChance()
    {
        using var run = new SampleRun();

        var result = AlignmentScenario.Run(run.Context);

        Assert.Equal(200, result.TestImages);
        Assert.True(result.ZeroShotAccuracy > 0.2, $"zero-shot accuracy {result.ZeroShotAccuracy:P1} (chance: 10%)");
    }
}
