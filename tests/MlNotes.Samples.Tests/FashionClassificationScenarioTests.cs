using System.IO;
using MlNotes.Samples.Vision;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class FashionClassificationScenarioTests
{
    [Theory]
    [InlineData("vit-fashion")]
    [InlineData("resnet-fashion")]
    public void Scenario_ClassifiesEvaluatesSavesAndPredictsFromTheZip(string graph)
    {
        using var run = new SampleRun();

        var result = FashionClassificationScenario.Run(graph, run.Context);

        Assert.True(result.Accuracy > 0.8, $"{graph}: accuracy {result.Accuracy:P1} on the quick slice");
        Assert.True(new FileInfo(result.ModelZip).Length > 0);
        Assert.False(string.IsNullOrEmpty(result.FirstPrediction));
    }

    [Fact]
    public void ScoringScenario_RoundTripsThroughAModelZip()
    {
        using var run = new SampleRun();

        ScoringScenario.Run(run.Context);

        Assert.True(File.Exists(Path.Combine(run.Context.OutputFolder, "scoring-model.zip")));
    }
}
