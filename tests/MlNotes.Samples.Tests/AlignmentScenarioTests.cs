using MlNotes.Samples.InfoNce;
using Xunit;

namespace MlNotes.Samples.Tests;

public sealed class AlignmentScenarioTests
{
    [Fact]
    public void Scenario_AlignsTheTwoEncoders_AndClassifiesZeroShotWithHeldOutTemplates()
    {
        using var run = new SampleRun();

        var result = AlignmentScenario.Run(run.Context);

        Assert.Equal(200, result.TestImages);

        // Quick mode (600 training pairs, 20 epochs, seed 1) measured 183 of 200 right (91.5 %), the same for every thread count tried
        // (DOTNET_PROCESSOR_COUNT 1, 2, 4, 8, 16); chance is 10 %. The window, 4 images either way, is for borderline images that another
        // CPU's float rounding in the ONNX encoders or the head could flip.
        Assert.InRange(result.ZeroShotAccuracy, 0.895, 0.935);

        // The claim of the scenario: a small InfoNCE head on two frozen encoders comes close to CLIP trained end to end (the committed
        // models-onnx/metrics.json figure, 91.75 %): measured 0.25 points below it; 3 points is the most this test allows.
        Assert.True(result.ClipZeroShotAccuracy > 0.85, $"CLIP zero-shot accuracy {result.ClipZeroShotAccuracy:P1}");
        Assert.True(result.ZeroShotAccuracy >= result.ClipZeroShotAccuracy - 0.03,
            $"zero-shot accuracy {result.ZeroShotAccuracy:P1}, CLIP's {result.ClipZeroShotAccuracy:P1}");
    }
}
