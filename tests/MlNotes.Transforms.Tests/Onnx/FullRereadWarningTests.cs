using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>An ONNX-backed view scored in full a second time logs one warning through the ML.NET channel; a cached one logs none.</summary>
public sealed class FullRereadWarningTests
{
    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    private static (MLContext Ml, List<string> Warnings, IDataView Scored, OnnxImageClassifierTransformer Model) Scored()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning)
            {
                lock (warnings)
                {
                    warnings.Add(e.Message);
                }
            }
        };
        string folder = TestModels.Path("vision");
        var data = ml.Data.LoadFromEnumerable(new[] { "img0.png", "img2.png", "img3.png" }.Select(f => new ImageRow { ImagePath = Path.Combine(folder, f) }));
        var model = ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = Path.Combine(folder, "user_classifier.onnx"),
            InputColumnName = nameof(ImageRow.ImagePath),
            ImageWidth = 224,
            ImageHeight = 224,
            Resize = ResizeKind.Exact,
        }).Fit(data);
        return (ml, warnings, model.Transform(data), model);
    }

    [Fact]
    public void ASecondFullRead_WarnsOnce_NamingTheTransformAndTheCheckpoint()
    {
        var (_, warnings, scored, model) = Scored();
        using (model)
        {
            _ = scored.GetColumn<VBuffer<float>>("Score").ToArray();
            Assert.Empty(warnings);
            _ = scored.GetColumn<VBuffer<float>>("Score").ToArray();
            _ = scored.GetColumn<VBuffer<float>>("Score").ToArray();
        }

        var warning = Assert.Single(warnings);
        Assert.Contains(nameof(OnnxImageClassifierTransformer), warning, System.StringComparison.Ordinal);
        Assert.Contains("AppendCacheCheckpoint", warning, System.StringComparison.Ordinal);
    }

    [Fact]
    public void ACachedView_ReadTwice_ScoresOnce_AndDoesNotWarn()
    {
        var (ml, warnings, scored, model) = Scored();
        using (model)
        {
            var cached = ml.Data.Cache(scored);
            _ = cached.GetColumn<VBuffer<float>>("Score").ToArray();
            _ = cached.GetColumn<VBuffer<float>>("Score").ToArray();
            // A partial read (the first row) is not a full pass.
            _ = scored.GetColumn<VBuffer<float>>("Score").First();
        }

        Assert.Empty(warnings);
    }
}
