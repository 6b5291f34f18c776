using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

/// <summary>
/// ML.NET's pretrained ResNet18 (the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18: a preprocessing graph that swaps RGB
/// to BGR and subtracts a mean image, then ResNet18.onnx, batch fixed to 1, features [1, 512, 1, 1]) through EncodeClipImage with
/// MlNotes' own preprocessing and options only, against ML.NET's <c>ExtractPixels</c> + <c>DnnFeaturizeImage</c> on the same images.
/// </summary>
public sealed class MlNetResNet18Tests
{
    /// <summary>The package's graphs, which its build targets copy beside the test binaries.</summary>
    internal static string Models => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>The package's mean image (CHW, BGR, 224 x 224): its preprocessing graph on zeros is minus the mean image.</summary>
    internal static float[] MeanImage()
    {
        using var session = new InferenceSession(Path.Combine(Models, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
        var zeros = new DenseTensor<float>(new[] { 1, 3, 224, 224 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("OriginalInput", zeros) });
        return results.Single().AsEnumerable<float>().Select(v => -v).ToArray();
    }

    /// <summary>The options that reproduce the package's preprocessing: BGR, 0-255, the mean image, no normalization of the features.</summary>
    internal static OnnxImageEncoderEstimator.Options Options(string inputColumn, float[] meanImage) => new()
    {
        ModelFile = Path.Combine(Models, "ResNet18Onnx", "ResNet18.onnx"),
        InputColumnName = inputColumn,
        OutputColumnName = "MlNotesFeatures",
        ChannelOrder = ChannelOrder.Bgr,
        PixelRange = PixelRange.ZeroTo255,
        MeanImage = meanImage,
        Normalize = false,
    };

    [Fact]
    public void MlNotesPreprocessing_ReproducesDnnFeaturizeImage()
    {
        var ml = new MLContext(seed: 1);
        string folder = TestModels.Path("foreign");
        var files = new[] { "photo.png", "alpha.png", "fashion_00000.png" }.Select(f => new ImageRow { ImagePath = f }).ToArray();
        var data = ml.Data.LoadFromEnumerable(files);
        var images = ml.Transforms.LoadImages("Image", folder, nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", 224, 224));
        var reference = images
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
            .Append(ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"))
            .Fit(data).Transform(data);
        var expected = reference.GetColumn<VBuffer<float>>("Features").Select(v => v.DenseValues().ToArray()).ToArray();

        var resized = images.Fit(data).Transform(data);
        using var model = ml.Transforms.EncodeClipImage(Options("Image", MeanImage())).Fit(resized);
        var actual = model.Transform(resized).GetColumn<VBuffer<float>>("MlNotesFeatures").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(512, model.EmbeddingSize);
        Assert.Equal(expected.Length, actual.Length);
        double gap = expected.Zip(actual, (e, a) => e.Zip(a, (x, y) => (double)Math.Abs(x - y)).Max()).Max();
        // Measured: 0 (features up to 16): the same graph on the same floats, one image per run either way (its batch is fixed to 1).
        Assert.True(gap < 1e-4, $"gap {gap}");
    }
}
