using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Vision;

/// <summary>The classifier's <c>Energy</c> column, -log sum exp(logits) (Liu et al. 2020), against the PyTorch fixture's logits.</summary>
public sealed class ClassifierEnergyTests
{
    [Fact]
    public void Energy_IsMinusTheLogSumExpOfThePyTorchLogits_AndSavesLoadsAndPredicts()
    {
        var ml = new MLContext(seed: 1);
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vit-fashion.json"))));
        var root = fixture.RootElement;
        var images = root.GetProperty("images").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToArray();
        var logits = root.GetProperty("outputs").GetProperty("logits").GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        int classes = logits.Length / images.Length;
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new FashionModelsTests.FashionImage { ImagePath = i }));
        var loaded = ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(FashionModelsTests.FashionImage.ImagePath)).Fit(data).Transform(data);
        using var classifier = ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = RepoPaths.Model("vit-fashion.onnx"),
            EnergyColumnName = "Energy",
        }).Fit(loaded);

        var energy = classifier.Transform(loaded).GetColumn<float>("Energy").ToArray();

        for (int i = 0; i < images.Length; i++)
        {
            var row = logits.Skip(i * classes).Take(classes).ToArray();
            double expected = -(row.Max() + Math.Log(row.Sum(v => Math.Exp(v - row.Max()))));
            // Energies of about -8; the logits agree to 1e-4 (FashionModelsTests), measured gap here below 2e-5, bound 1e-4.
            Assert.Equal(expected, energy[i], 1e-4);
        }

        using var temp = TestModels.TempFolder();
        string zip = temp.File("classifier.zip");
        ml.Model.Save(classifier, loaded.Schema, zip);
        var reloaded = new MLContext().Model.Load(zip, out _);
        Assert.Equal(energy, reloaded.Transform(loaded).GetColumn<float>("Energy"));
        (reloaded as IDisposable)?.Dispose();
    }

    [Fact]
    public void AnEmptyEnergyColumnName_IsRefused()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = RepoPaths.Model("vit-fashion.onnx"),
            EnergyColumnName = "",
        }));

        Assert.Equal("EnergyColumnName", e.ParamName);
    }
}
