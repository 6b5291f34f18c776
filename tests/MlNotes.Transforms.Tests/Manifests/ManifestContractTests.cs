using System;
using System.IO;
using System.Text.Json.Nodes;
using Microsoft.ML;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Manifests;

/// <summary>Every manifest field is honoured or refused: a field MlNotes cannot honour fails when the pipeline is built, naming it.</summary>
public sealed class ManifestContractTests
{
    [Theory]
    [InlineData("vit-fashion.json", "preprocessing.interpolation", "\"lanczos\"", "preprocessing.interpolation 'lanczos'")]
    [InlineData("vit-fashion.json", "preprocessing.layout", "\"CWH\"", "preprocessing.layout 'CWH'")]
    [InlineData("vit-fashion.json", "preprocessing.range", "\"0-65535\"", "preprocessing.range '0-65535'")]
    [InlineData("vit-fashion.json", "preprocessing.crop", "\"random\"", "preprocessing.crop 'random'")]
    [InlineData("vit-fashion.json", "preprocessing.resize", "\"squash\"", "preprocessing.resize 'squash'")]
    [InlineData("vit-fashion.json", "preprocessing.color", "\"rgb\"", "preprocessing.color 'rgb'")]
    [InlineData("vit-fashion.json", "preprocessing.antialias", "false", "field 'preprocessing.antialias'")]
    [InlineData("vit-fashion.json", "format_version", "2", "format_version 2")]
    [InlineData("vit-fashion.json", "normalize_embeddings", "true", "field 'normalize_embeddings'")]
    [InlineData("vit-fashion.json", "inputs.0.layout", "\"NHWC\"", "field 'inputs.layout'")]
    [InlineData("vae-fashion-decoder.json", "output_image.layout", "\"HWC\"", "output_image.layout 'HWC'")]
    [InlineData("vae-fashion-decoder.json", "likelihood.data_range", "[-1, 1]", "likelihood.data_range '[-1, 1]'")]
    [InlineData("vae-fashion-decoder.json", "likelihood.sigma", "0.1", "field 'likelihood.sigma'")]
    [InlineData("text-fortunes.json", "tokenizer.byte_fallback", "true", "field 'tokenizer.byte_fallback'")]
    [InlineData("text-fortunes.json", "pooling.weights", "\"idf\"", "field 'pooling.weights'")]
    public void AFieldMlNotesCannotHonour_IsRefused_NamingTheManifestTheFieldAndTheValue(string manifest, string path, string value, string expected)
    {
        string json = Edit(File.ReadAllText(RepoPaths.Model(manifest)), path, value);

        var e = Assert.Throws<NotSupportedException>(() => ModelManifest.Parse(json, "'edited.json'", corruptIsFormatError: false));

        Assert.Contains("'edited.json'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCommittedManifests_UseOnlyFieldsThatAreReadOrInformative()
    {
        foreach (string file in Directory.GetFiles(RepoPaths.ModelsOnnx, "*.json"))
        {
            if (Path.GetFileName(file) == "metrics.json")
            {
                continue;
            }

            string json = File.ReadAllText(file);
            if (json.Contains("\"seq2seq-generator\"", StringComparison.Ordinal) || json.Contains("\"decoder-generator\"", StringComparison.Ordinal))
            {
                Assert.NotNull(MlNotes.Transforms.Generation.GenerationGraph.Parse(json, file)); // a generator's manifest (docs/generation.md)
            }
            else
            {
                Assert.NotNull(ModelManifest.Load(file));
            }
        }
    }

    [Fact]
    public void AClassifierWithAnUnsupportedManifestField_FailsWhenThePipelineIsBuilt()
    {
        using var folder = TestModels.TempFolder();
        string manifest = folder.File("vit.json");
        File.WriteAllText(manifest, Edit(File.ReadAllText(RepoPaths.Model("vit-fashion.json")), "preprocessing.interpolation", "\"hamming\""));
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<NotSupportedException>(() => ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = RepoPaths.Model("vit-fashion.onnx"),
            ManifestFile = manifest,
        }));

        Assert.Equal($"The model manifest '{manifest}' has preprocessing.interpolation 'hamming', which MlNotes does not support " +
            "(supported: bilinear, bicubic, nearest (Pillow's filters, what torchvision and timm run on PIL images)).", e.Message);
    }

    [Fact]
    public void AManifestOfAnotherFamily_IsRefused_NamingItsFamilyAndTheOnesTheComponentReads()
    {
        var ml = new MLContext(seed: 1);
        string vaeManifest = RepoPaths.Model("vae-fashion-encoder.json");

        var e = Assert.Throws<NotSupportedException>(() => ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelFile = RepoPaths.Model("vit-fashion.onnx"),
            ManifestFile = vaeManifest,
        }));

        Assert.Equal($"The model manifest '{vaeManifest}' has family 'vae-encoder', which MlNotes does not support (supported: image-classifier for ClassifyImageOnnx).", e.Message);
    }

    // Sets the field at a dotted path ("preprocessing.layout", "inputs.0.layout") to a JSON value.
    private static string Edit(string json, string path, string value)
    {
        var root = JsonNode.Parse(json)!;
        var parts = path.Split('.');
        JsonNode node = root;
        foreach (string part in parts[..^1])
        {
            node = int.TryParse(part, out int index) ? node[index]! : node[part]!;
        }

        node[parts[^1]] = JsonNode.Parse(value);
        return root.ToJsonString();
    }
}
