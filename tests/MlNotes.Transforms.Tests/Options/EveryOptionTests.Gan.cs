using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Gan;

namespace MlNotes.Transforms.Tests.Options;

/// <summary>The GAN transforms' option cases, on the models-onnx graphs (no tiny GAN exists) with three rows of random noise and images.</summary>
public sealed partial class EveryOptionTests
{
    private static void Gan(System.Collections.Generic.List<OptionCase> cases)
    {
        var images = OptionRows.Random(3, 784, seed: 31, scale: 1);
        var noise = OptionRows.Random(3, 64, seed: 32, scale: 2, offset: -1);
        var rows = images.Select((image, i) => new OptionRows.PixelRow { Image = image, Alt = images[2 - i], Noise = noise[i] }).ToArray();
        IDataView Rows(MLContext ml) => OptionRows.Load(ml, rows, (nameof(OptionRows.PixelRow.Image), 784), (nameof(OptionRows.PixelRow.Alt), 784), (nameof(OptionRows.PixelRow.Noise), 64));
        string generatorFile = RepoPaths.Model("gan-fashion-generator.onnx"), discriminatorFile = RepoPaths.Model("gan-fashion-discriminator.onnx");
        string generatorManifest = RepoPaths.Model("gan-fashion-generator.json"), discriminatorManifest = RepoPaths.Model("gan-fashion-discriminator.json");

        var generator = new CaseList<GanGeneratorEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(generatorFile), ManifestFile = generatorManifest, OutputColumnName = "Generated" },
            Rows, (ml, o, data) => ml.Transforms.GenerateImagesGan(o).Fit(data)), cases);
        Execution(generator, generatorFile);
        generator.Throws<NotSupportedException>(nameof(GanGeneratorEstimator.Options.ManifestFile), o => o.ManifestFile = discriminatorManifest, Path.GetFileName(discriminatorManifest));
        generator.Differs(nameof(GanGeneratorEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Fake");
        generator.Differs(nameof(GanGeneratorEstimator.Options.NoiseColumnName), o => o.NoiseColumnName = nameof(OptionRows.PixelRow.Noise));
        generator.Differs(nameof(GanGeneratorEstimator.Options.Seed), o => o.Seed = 12345);
        generator.Compare(nameof(GanGeneratorEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var discriminator = new CaseList<GanDiscriminatorEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(discriminatorFile), ManifestFile = discriminatorManifest },
            Rows, (ml, o, data) => ml.Transforms.ScoreRealismGan(o).Fit(data)), cases);
        Execution(discriminator, discriminatorFile);
        discriminator.Throws<NotSupportedException>(nameof(GanDiscriminatorEstimator.Options.ManifestFile), o => o.ManifestFile = generatorManifest, Path.GetFileName(generatorManifest));
        discriminator.Differs(nameof(GanDiscriminatorEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(OptionRows.PixelRow.Alt));
        discriminator.Differs(nameof(GanDiscriminatorEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Real");
        discriminator.Differs(nameof(GanDiscriminatorEstimator.Options.LogitColumnName), o => o.LogitColumnName = "Logit");
        discriminator.Compare(nameof(GanDiscriminatorEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);
    }
}
