using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Transforms.Tests.Manifests;

/// <summary>
/// The VQ-VAE graphs of models-onnx with the codebook of their manifest: ONNX Runtime's latents, quantized in C# with the manifest's
/// codebook, give PyTorch's code indices exactly, and decoding PyTorch's code vectors matches (ModelsOnnxTests checks every graph's
/// outputs within 1e-4; this checks the step between the two graphs).
/// </summary>
public sealed class VqVaeGraphTests
{
    private readonly ITestOutputHelper _output;

    public VqVaeGraphTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Latents_quantized_with_the_manifest_codebook_give_PyTorch_s_indices_exactly()
    {
        var manifest = ModelManifest.Load(RepoPaths.Model("vqvae-fashion-encoder.json"));
        var book = manifest.Codebook!;
        int dim = manifest.CodeDim!.Value;
        Assert.Equal(manifest.CodebookSize, book.Length);
        Assert.Equal(new[] { 7, 7 }, manifest.Grid);
        using var fixture = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "vqvae-fashion-encoder.json"))));
        var root = fixture.RootElement;
        var image = root.GetProperty("inputs").GetProperty("image");
        float[] pixels = image.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        long[] shape = image.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        int[] expected = root.GetProperty("indices").GetProperty("data").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] quantized = root.GetProperty("quantized").GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        double margin = root.GetProperty("min_distance_margin").GetDouble();

        string file = RepoPaths.Model("vqvae-fashion-encoder.onnx");
        var host = ((Microsoft.ML.Runtime.IHostEnvironment)new Microsoft.ML.MLContext()).Register(nameof(VqVaeGraphTests));
        using var model = OnnxModel.Create(host, File.ReadAllBytes(file), $"'{file}'", OnnxExecutionSettings.Cpu, fromSavedModel: false);
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, shape);
        using var options = new RunOptions();
        using var results = model.Session.Run(options, new[] { "image" }, new[] { input }, new[] { "latents" });
        float[] latents = results[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(expected.Length * dim, latents.Length);

        for (int p = 0; p < expected.Length; p++)
        {
            int best = 0;
            double bestDistance = double.PositiveInfinity;
            for (int k = 0; k < book.Length; k++)
            {
                double d = 0;
                for (int j = 0; j < dim; j++)
                {
                    double e = latents[(p * dim) + j] - book[k][j];
                    d += e * e;
                }

                if (d < bestDistance)
                {
                    (best, bestDistance) = (k, d);
                }
            }

            Assert.True(expected[p] == best, $"position {p}: code {best}, PyTorch {expected[p]}");
            for (int j = 0; j < dim; j++)
            {
                Assert.Equal(quantized[(p * dim) + j], book[best][j]); // the fixture's code vectors are the manifest's rows
            }
        }

        // How far the indices are from a tie: the fixture's smallest gap between the nearest and second-nearest squared distance (measured
        // 2.1e-4 over the 245 positions). ONNX Runtime's latents stay within 1e-4 of PyTorch's (ModelsOnnxTests), so a position could
        // flip only if that gap were below about 2 * |z - e| * 1e-4; the exact match above is the measurement.
        _output.WriteLine($"smallest nearest / second-nearest gap in the fixture: {margin:G4}");
        Assert.True(margin > 0, "a tie in the fixture");
    }

    [Fact]
    public void A_codebook_of_the_wrong_shape_is_refused_naming_the_manifest()
    {
        string json = File.ReadAllText(RepoPaths.Model("vqvae-fashion-encoder.json"));
        using var doc = JsonDocument.Parse(json);
        int size = doc.RootElement.GetProperty("codebook_size").GetInt32();
        string bad = json.Replace($"\"codebook_size\": {size}", $"\"codebook_size\": {size + 1}", StringComparison.Ordinal);
        Assert.NotEqual(json, bad);
        var ex = Assert.Throws<InvalidOperationException>(() => ModelManifest.Parse(bad, "'edited.json'", corruptIsFormatError: false));
        Assert.Equal($"The model manifest 'edited.json' has a codebook of {size} rows where codebook_size is {size + 1}.", ex.Message);
    }
}
