using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Manifests;

/// <summary>
/// Every graph in models-onnx against its manifest (names, element types, shapes) and against its PyTorch fixture:
/// ONNX Runtime's outputs equal PyTorch's within 1e-4. CI does not retrain; this is what keeps the committed graphs honest.
/// </summary>
public sealed class ModelsOnnxTests
{
    public static IEnumerable<object[]> Manifests()
        => Directory.GetFiles(RepoPaths.ModelsOnnx, "*.json")
            .Where(f => Path.GetFileName(f) != "metrics.json")
            .Where(f => !File.ReadAllText(f).Contains("\"seq2seq-generator\"", StringComparison.Ordinal)) // two graphs: G2pGeneratorTests
            .Where(f => !File.ReadAllText(f).Contains("\"decoder-generator\"", StringComparison.Ordinal)) // a generator's decoder: FortunesLmTests
            .Order(StringComparer.Ordinal)
            .Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Manifest_MatchesItsGraph(string name)
    {
        var manifest = ModelManifest.Load(RepoPaths.Model(name + ".json"));
        using var model = Load(name, manifest);

        manifest.Validate(model);

        Assert.Equal(manifest.Inputs.Select(t => t.Name).Order(), model.InputMetadata.Keys.Order());
        Assert.Equal(manifest.Outputs.Select(t => t.Name).Order(), model.OutputMetadata.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void OnnxRuntime_EqualsPyTorch_OnTheFixture(string name)
    {
        var manifest = ModelManifest.Load(RepoPaths.Model(name + ".json"));
        using var model = Load(name, manifest);
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", name + ".json"))));
        var inputs = fixture.RootElement.GetProperty("inputs").EnumerateObject().ToArray();
        var values = inputs.Select(i => Tensor(i.Value)).ToArray();
        var outputs = fixture.RootElement.GetProperty("outputs").EnumerateObject().ToArray();

        using var options = new RunOptions();
        using var results = model.Session.Run(options, inputs.Select(i => i.Name).ToArray(), values, outputs.Select(o => o.Name).ToArray());

        for (int o = 0; o < outputs.Length; o++)
        {
            var expected = outputs[o].Value.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var actual = results[o].GetTensorDataAsSpan<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            float worst = expected.Zip(actual).Max(p => MathF.Abs(p.First - p.Second));
            Assert.True(worst <= 1e-4f, $"{name}: output '{outputs[o].Name}' differs from PyTorch by up to {worst}");
        }

        foreach (var value in values)
        {
            value.Dispose();
        }
    }

    private static OnnxModel Load(string name, ModelManifest manifest)
    {
        string file = RepoPaths.Model(manifest.ModelFile ?? name + ".onnx");
        var host = ((Microsoft.ML.Runtime.IHostEnvironment)new Microsoft.ML.MLContext()).Register(nameof(ModelsOnnxTests));
        return OnnxModel.Create(host, File.ReadAllBytes(file), $"'{file}'", OnnxExecutionSettings.Cpu, fromSavedModel: false);
    }

    private static OrtValue Tensor(JsonElement tensor)
    {
        var shape = tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var data = tensor.GetProperty("data").EnumerateArray();
        return tensor.GetProperty("dtype").GetString() switch
        {
            "int64" => OrtValue.CreateTensorValueFromMemory(data.Select(e => e.GetInt64()).ToArray(), shape),
            "float32" => OrtValue.CreateTensorValueFromMemory(data.Select(e => e.GetSingle()).ToArray(), shape),
            var other => throw new NotSupportedException($"fixture dtype {other}"),
        };
    }
}
