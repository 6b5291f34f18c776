using System.IO;
using MlNotes.Samples.Text;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class TextClassificationScenarioTests
{
    [Fact]
    public void Scenario_ClassifiesSearchesAndBeatsChance()
    {
        using var run = new SampleRun();

        var result = TextClassificationScenario.Run(run.Context);

        Assert.True(result.Accuracy > 0.3, $"encoder accuracy {result.Accuracy:P1} on the quick slice");
        Assert.True(result.BaselineAccuracy > 0.2, $"baseline accuracy {result.BaselineAccuracy:P1}");
        Assert.Equal(3, result.ClosestTexts.Length);
        Assert.True(File.Exists(Path.Combine(run.Context.OutputFolder, "text-classifier.zip")));
    }
}
