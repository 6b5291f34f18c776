using System;
using System.IO;
using Microsoft.ML;
using MlNotes.Transforms.Tests.Persistence;
using MlNotes.Transforms.Vae;
using Xunit;

namespace MlNotes.Transforms.Tests.Vae;

/// <summary>Which row a VAE's seeded noise belongs to: the upstream row's id (v2), or its position in a v1 zip.</summary>
public sealed class VaeNoiseKeyTests
{
    /// <summary>A v1 zip of an encoder with seeded noise (no noise column), written by the v1 code: its latents were keyed by row position.</summary>
    private const string SeededV1 = "vae-encoder-seeded";

    private static string V1Folder => PersistenceTests.FixtureFolder;

    [Fact]
    public void CommittedV1Zip_WithSeededNoise_StillKeysTheNoiseByPosition()
    {
        var component = FixtureModels.Get("vae-encoder");
        string zip = Path.Combine(V1Folder, SeededV1 + ".zip");
        string expectedFile = Path.Combine(V1Folder, SeededV1 + ".expected.json");
        if (Environment.GetEnvironmentVariable("MLNOTES_WRITE_FIXTURES") == "1" && !File.Exists(zip))
        {
            var ml = new MLContext(seed: 1);
            var input = component.Input(ml);
            using var model = SeededEncoder(ml, input);
            ml.Model.Save(model, input.Schema, zip);
            OutputTable.Write(expectedFile, SeededV1, OutputTable.Read(model.Transform(input), component.InputColumns));
        }

        var fresh = new MLContext(seed: 3);
        var loaded = fresh.Model.Load(zip, out _);
        var actual = OutputTable.Read(loaded.Transform(component.Input(fresh)), component.InputColumns);
        PersistenceTests.DisposeModel(loaded);

        // Measured gap 0 (the same graph and noise on this machine); 1e-6 relative as the other fixture zips.
        OutputTable.AssertEqual(OutputTable.Load(expectedFile), actual, 1e-6);
    }

    internal static VaeEncoderTransformer SeededEncoder(MLContext ml, IDataView input) => ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options
    {
        ModelBytes = File.ReadAllBytes(TestModels.Path(Path.Combine("vae", "tiny_vae_encoder.onnx"))),
        ManifestFile = TestModels.Path(Path.Combine("vae", "tiny_vae_encoder.json")),
        InputColumnName = nameof(FixtureModels.PixelRow.Image),
        Seed = 7,
        SampleCount = 2,
        BatchSize = 2,
    }).Fit(input);
}
