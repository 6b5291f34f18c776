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

        // Accuracy against PyTorch's is the text tests' business; here the sample must run end to end and measure.
        Assert.InRange(result.Accuracy, 0.0, 1.0);
        Assert.InRange(result.BaselineAccuracy, 0.0, 1.0);
        Assert.Equal(3, result.ClosestTexts.Length);
        Assert.True(File.Exists(Path.Combine(run.Context.OutputFolder, "text-classifier.zip")));
    }
}
