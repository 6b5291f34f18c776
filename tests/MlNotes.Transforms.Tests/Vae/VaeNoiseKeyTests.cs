using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
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
        // Today's build keys the noise by row id: other latents, the same means.
        using var today = SeededEncoder(fresh, component.Input(fresh));
        var todays = OutputTable.Read(today.Transform(component.Input(fresh)), component.InputColumns);
        double[] Values(System.Collections.Generic.List<OutputColumn> table, string column) => table.Single(c => c.Name == column).Rows.SelectMany(r => r.Numbers!).ToArray();
        Assert.Equal(Values(actual, "LatentMean"), Values(todays, "LatentMean"));
        Assert.NotEqual(Values(actual, "Latent"), Values(todays, "Latent"));
    }

    [Fact]
    public void SeededSamples_OfShardsAndFilteredViews_AreTheFullRunsRows()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows(7), Schema());
        using var encoder = SeededEncoder(ml, data);
        using var scorer = ml.Transforms.ScoreVae(new VaeScorerEstimator.Options
        {
            ModelBytes = File.ReadAllBytes(TestModels.Path(Path.Combine("vae", "tiny_vae_encoder.onnx"))),
            DecoderModelBytes = File.ReadAllBytes(TestModels.Path(Path.Combine("vae", "tiny_vae_decoder.onnx"))),
            InputColumnName = nameof(IndexedRow.Image),
            ImportanceSamples = 3,
            Seed = 5,
            BatchSize = 3,
        }).Fit(data);
        float[][] Latents(IDataView view) => encoder.Transform(view).GetColumn<float[]>("Latent").ToArray();
        float[] LogPx(IDataView view) => scorer.Transform(view).GetColumn<float>("LogLikelihood").ToArray();
        var full = Latents(data);
        var fullLogPx = LogPx(data);

        var skipped = Latents(ml.Data.SkipRows(data, 2));
        var taken = Latents(ml.Data.TakeRows(ml.Data.SkipRows(data, 3), 2));
        var odd = ml.Data.FilterRowsByColumn(data, nameof(IndexedRow.Index), lowerBound: 0.5, upperBound: 1.5);
        var filtered = Latents(ml.Data.FilterRowsByColumn(data, nameof(IndexedRow.Odd), lowerBound: 0.5, upperBound: 1.5));

        Assert.Equal(full.Skip(2), skipped);
        Assert.Equal(full.Skip(3).Take(2), taken);
        Assert.Equal(new[] { full[1], full[3], full[5] }, filtered);
        Assert.Equal(fullLogPx.Skip(2), LogPx(ml.Data.SkipRows(data, 2)));
        Assert.Equal(new[] { fullLogPx[1], fullLogPx[3], fullLogPx[5] }, LogPx(ml.Data.FilterRowsByColumn(data, nameof(IndexedRow.Odd), lowerBound: 0.5, upperBound: 1.5)));
        Assert.Equal(new[] { full[1] }, Latents(odd));
        Assert.NotEqual(full[0], full[1]);
    }

    [Fact]
    public void PredictionEngine_KeysTheNoiseByItsCallCount_AsTheRowIdOfAnInMemoryView()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(4);
        var data = ml.Data.LoadFromEnumerable(rows, Schema());
        using var encoder = SeededEncoder(ml, data);
        var full = encoder.Transform(data).GetColumn<float[]>("Latent").ToArray();
        using var engine = ml.Model.CreatePredictionEngine<IndexedRow, LatentRow>(encoder, inputSchemaDefinition: Schema());

        var predicted = rows.Select(r => engine.Predict(r).Latent).ToArray();
        var again = engine.Predict(rows[0]).Latent;
        using var fresh = ml.Model.CreatePredictionEngine<IndexedRow, LatentRow>(encoder, inputSchemaDefinition: Schema());

        // The engine's n-th call (from 0) is row id n: a fresh engine fed the rows in order gives the full run's samples;
        // the same row later, another call, gets other noise.
        Assert.Equal(full, predicted);
        Assert.NotEqual(full[0], again);
        Assert.Equal(full[0], fresh.Predict(rows[0]).Latent);
    }

    private static IndexedRow[] Rows(int count) => Enumerable.Range(0, count).Select(i => new IndexedRow
    {
        Image = Enumerable.Range(0, 64).Select(j => ((i * 31) + (j * 7)) % 64 / 64f).ToArray(),
        Index = i,
        Odd = i % 2,
    }).ToArray();

    private static SchemaDefinition Schema()
    {
        var schema = SchemaDefinition.Create(typeof(IndexedRow));
        schema[nameof(IndexedRow.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 64);
        return schema;
    }

    internal static VaeEncoderTransformer SeededEncoder(MLContext ml, IDataView input) => ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options
    {
        ModelBytes = File.ReadAllBytes(TestModels.Path(Path.Combine("vae", "tiny_vae_encoder.onnx"))),
        ManifestFile = TestModels.Path(Path.Combine("vae", "tiny_vae_encoder.json")),
        InputColumnName = "Image",
        Seed = 7,
        SampleCount = 2,
        BatchSize = 2,
    }).Fit(input);

    public sealed class IndexedRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public float Index { get; set; }

        public float Odd { get; set; }
    }

    public sealed class LatentRow
    {
        public float[] Latent { get; set; } = Array.Empty<float>();
    }
}
