using System.Linq;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

public sealed class ClassificationOutputsTests
{
    [Theory]
    [InlineData(new[] { 0.5f, 2f, 1f }, 2u)]
    [InlineData(new[] { 3f, 3f, 1f }, 1u)] // ties: the first
    [InlineData(new[] { float.NaN, 2f, 1f }, 0u)] // NaN first: was class 1 (nothing compares greater than NaN)
    [InlineData(new[] { 1f, float.NaN, 0f }, 0u)]
    [InlineData(new[] { 1f, 0f, float.NaN }, 0u)]
    public void PredictedKey_IsTheLargestLogit_OrMissingWhenAnyIsNaN(float[] logits, uint expected)
        => Assert.Equal(expected, ClassificationOutputs.PredictedKey(logits));

    [Fact]
    public void Softmax_OfNaNLogits_IsNaN_AndSumsToOneOtherwise()
    {
        var probabilities = new float[3];
        ClassificationOutputs.Softmax(new[] { 1f, float.NaN, 0f }, probabilities);
        Assert.All(probabilities, p => Assert.True(float.IsNaN(p)));
        ClassificationOutputs.Softmax(new[] { 1000f, 0f, -1000f }, probabilities);
        Assert.Equal(1f, probabilities.Sum(), 6);
        Assert.Equal(1f, probabilities[0]);
    }
}
