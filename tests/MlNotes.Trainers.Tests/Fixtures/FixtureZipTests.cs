using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Tests.Mdn;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.Fixtures;

/// <summary>
/// The committed model zips (Fixtures/Zips/v1/&lt;component&gt;.zip, saved by the loaders' first format; Fixtures/Zips/v2/ for components
/// whose format changed since) and their outputs on fixed rows (&lt;component&gt;.expected.json): a later format change must still load
/// them and give the same outputs.
/// Setting MLNOTES_WRITE_FIXTURES=1 writes the fixtures that the source tree does not have yet (a new component, a new format version)
/// from <see cref="FixtureModels"/> first, never overwriting a committed one; the tests then compare as always.
/// </summary>
public sealed class FixtureZipTests
{
    public const string WriteVariable = "MLNOTES_WRITE_FIXTURES";

    private readonly ITestOutputHelper _output;

    public FixtureZipTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Names() => new(FixtureModels.All.Select(f => f.Key));

    [Theory]
    [MemberData(nameof(Names))]
    public void The_committed_zip_loads_in_a_fresh_context_and_gives_the_committed_outputs(string name)
    {
        var fixture = FixtureModels.Named(name);
        WriteIfAsked(fixture);
        var ml = new MLContext();
        var expected = Expected(fixture);
        var inputs = fixture.Inputs(ml);
        foreach (string column in fixture.InputColumns)
        {
            Assert.Equal(expected.Inputs[column], Read(inputs, column)); // the rows the outputs were computed on
        }

        var loaded = ml.Model.Load(ZipPath(fixture.Name, fixture.Version), out var schema);
        Assert.NotNull(schema);
        var actual = Outputs(fixture, loaded.Transform(inputs));

        // Exact on this machine (measured max difference 0). The tolerance only absorbs a last-bit difference in float sums on a CPU of
        // another SIMD width (outputs are of order 1-10, float32's ulp there is 1e-7 to 1e-6).
        AssertClose(expected.Outputs, actual, 1e-6, fixture.Key);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_model_built_today_gives_the_committed_outputs(string name)
    {
        // Keeps FixtureModels honest: the code beside the zips still builds the models in them.
        var fixture = FixtureModels.Named(name);
        var ml = new MLContext();
        var (model, _) = fixture.Build(ml);
        var actual = Outputs(fixture, model.Transform(fixture.Inputs(ml)));

        // Exact here (measured 0); training in float32 (3 MDN epochs, 2 InfoNCE epochs) may differ by a few ulps on another SIMD width,
        // and a few Adam steps can grow that to about 1e-6; 1e-5 leaves 10x over that estimate.
        AssertClose(Expected(fixture).Outputs, actual, 1e-5, fixture.Key);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Save_then_load_in_a_fresh_context_gives_identical_outputs(string name)
    {
        var fixture = FixtureModels.Named(name);
        var ml = new MLContext();
        var (model, schema) = fixture.Build(ml);
        var before = Outputs(fixture, model.Transform(fixture.Inputs(ml)));
        string path = Path.Combine(Path.GetTempPath(), $"{fixture.Name}-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, schema, path);
            var ml2 = new MLContext();
            var loaded = ml2.Model.Load(path, out _);
            var after = Outputs(fixture, loaded.Transform(fixture.Inputs(ml2)));
            foreach (string column in fixture.OutputColumns)
            {
                Assert.Equal(before[column], after[column]);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Mdn_prediction_engine_gives_Transform_s_outputs()
    {
        var ml = new MLContext();
        var loaded = ml.Model.Load(ZipPath(FixtureModels.Mdn.Name), out _);
        var inputs = FixtureModels.Mdn.Inputs(ml);
        var transformed = ml.Data.CreateEnumerable<MdnOutput>(loaded.Transform(inputs), reuseRowObject: false).ToArray();
        var engine = ml.Model.CreatePredictionEngine<FixtureModels.MdnInput, MdnOutput>(loaded);
        var rows = ml.Data.CreateEnumerable<FixtureModels.MdnInput>(inputs, reuseRowObject: false).ToArray();
        Assert.Equal(3, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            MdnTrainerTests.AssertSame(transformed[i], engine.Predict(rows[i]));
        }

        MdnTrainerTests.AssertSame(transformed[0], engine.Predict(rows[0])); // no state carried from one prediction to the next
    }

    [Fact]
    public void Mdn_v1_zip_gives_the_log_weights_column_it_predates()
    {
        // MixtureLogWeights is computed from the stored weights, not stored: a v1 zip has it, the log-softmax whose exponential is the
        // committed MixtureWeights.
        var ml = new MLContext();
        var loaded = ml.Model.Load(ZipPath(FixtureModels.Mdn.Name), out _);
        var scored = loaded.Transform(FixtureModels.Mdn.Inputs(ml));
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 2), scored.Schema[MdnColumnNames.MixtureLogWeights].Type);
        var logs = Read(scored, MdnColumnNames.MixtureLogWeights);
        var weights = Expected(FixtureModels.Mdn).Outputs[MdnColumnNames.MixtureWeights];
        Assert.Equal(weights.Length, logs.Length);
        double worst = 0;
        for (int r = 0; r < logs.Length; r++)
        {
            for (int k = 0; k < 2; k++)
            {
                worst = Math.Max(worst, Math.Abs(Math.Exp(logs[r][k]) - weights[r][k]));
            }

            Assert.Equal(0, Math.Log(Math.Exp(logs[r][0]) + Math.Exp(logs[r][1])), 1e-6); // normalized
        }

        // Both are Single roundings of the same double: weights of order 0.5 round by 3e-8, log-weights of order 1 by 6e-8.
        _output.WriteLine($"largest |exp(log-weight) - weight| {worst:E2}");
        Assert.True(worst < 2e-7, $"exp(MixtureLogWeights) differs from MixtureWeights by {worst:E2}");
    }

    [Fact]
    public void The_sampling_v1_zip_on_the_v2_rows_draws_by_position_not_as_v2_does()
    {
        // The v2 rows are the v1 rows behind a skipped first row (positions 0-2, ids 1-3): the v1 zip draws its committed v1 outputs on
        // them, the v2 zip its own, and the two differ.
        var ml = new MLContext();
        var inputs = FixtureModels.SamplingV2.Inputs(ml);
        var v1 = Outputs(FixtureModels.Sampling, ml.Model.Load(ZipPath(FixtureModels.Sampling.Name, "v1"), out _).Transform(inputs));
        var v2 = Outputs(FixtureModels.SamplingV2, ml.Model.Load(ZipPath(FixtureModels.SamplingV2.Name, "v2"), out _).Transform(inputs));
        Assert.Equal(Expected(FixtureModels.Sampling).Outputs["Samples"], v1["Samples"]);
        Assert.Equal(Expected(FixtureModels.SamplingV2).Outputs["Samples"], v2["Samples"]);
        Assert.NotEqual(v1["Samples"], v2["Samples"]);
    }

    [Fact]
    public void InfoNce_prediction_engine_gives_Transform_s_outputs()
    {
        var ml = new MLContext();
        var loaded = ml.Model.Load(ZipPath(FixtureModels.InfoNce.Name), out _);
        var inputs = FixtureModels.InfoNce.Inputs(ml);
        var transformed = ml.Data.CreateEnumerable<InfoNce.InfoNceEstimatorTests.Embedded>(loaded.Transform(inputs), reuseRowObject: false).ToArray();
        var engine = ml.Model.CreatePredictionEngine<FixtureModels.PairRow, InfoNce.InfoNceEstimatorTests.Embedded>(loaded);
        var rows = ml.Data.CreateEnumerable<FixtureModels.PairRow>(inputs, reuseRowObject: false).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            var one = engine.Predict(rows[i]);
            Assert.Equal(transformed[i].EmbeddingA, one.EmbeddingA);
            Assert.Equal(transformed[i].EmbeddingB, one.EmbeddingB);
            Assert.Equal(transformed[i].Similarity, one.Similarity);
        }
    }

    public sealed class SamplesOutput
    {
        public float[] Samples { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void Sampling_prediction_engine_gives_Transform_s_draws_row_for_row()
    {
        // A v1 model's draws depend on the seed and the row's position; a prediction engine counts its calls as positions 0, 1, 2, ..., so
        // its n-th call draws what Transform draws for row n, and a fresh engine starts over (v2 models: MdnSamplingTests).
        var ml = new MLContext();
        var loaded = ml.Model.Load(ZipPath(FixtureModels.Sampling.Name), out _);
        var inputs = FixtureModels.Sampling.Inputs(ml);
        var transformed = ml.Data.CreateEnumerable<SamplesOutput>(loaded.Transform(inputs), reuseRowObject: false).ToArray();
        var rows = ml.Data.CreateEnumerable<FixtureModels.MixtureRow>(inputs, reuseRowObject: false).ToArray();
        var engine = ml.Model.CreatePredictionEngine<FixtureModels.MixtureRow, SamplesOutput>(loaded);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(transformed[i].Samples, engine.Predict(rows[i]).Samples);
        }

        var fresh = ml.Model.CreatePredictionEngine<FixtureModels.MixtureRow, SamplesOutput>(loaded);
        Assert.Equal(transformed[0].Samples, fresh.Predict(rows[0]).Samples);
        Assert.Equal(4, transformed[0].Samples.Length);
    }

    internal static string ZipPath(string name, string version = "v1") => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Zips", version, name + ".zip");

    private static string ExpectedPath(Fixture fixture) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Zips", fixture.Version, fixture.Name + ".expected.json");

    private static string SourceFolder(string version, [CallerFilePath] string file = "") => Path.Combine(Path.GetDirectoryName(file)!, "Zips", version);

    private static Dictionary<string, float[][]> Outputs(Fixture fixture, IDataView view)
        => fixture.OutputColumns.ToDictionary(c => c, c => Read(view, c));

    /// <summary>Every row's values of a Single, vector-of-Single or UInt32 key column.</summary>
    private static float[][] Read(IDataView view, string name)
    {
        var column = view.Schema[name];
        var rows = new List<float[]>();
        using var cursor = view.GetRowCursor(new[] { column });
        if (column.Type is VectorDataViewType)
        {
            var get = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> buffer = default;
            while (cursor.MoveNext())
            {
                get(ref buffer);
                rows.Add(buffer.DenseValues().ToArray());
            }
        }
        else if (column.Type is KeyDataViewType)
        {
            var get = cursor.GetGetter<uint>(column); // a clustering model's PredictedLabel, compared as a number
            uint key = 0;
            while (cursor.MoveNext())
            {
                get(ref key);
                rows.Add(new[] { (float)key });
            }
        }
        else
        {
            var get = cursor.GetGetter<float>(column);
            float value = 0;
            while (cursor.MoveNext())
            {
                get(ref value);
                rows.Add(new[] { value });
            }
        }

        return rows.ToArray();
    }

    private void AssertClose(Dictionary<string, float[][]> expected, Dictionary<string, float[][]> actual, double tolerance, string name)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        double worst = 0;
        foreach (var (column, rows) in expected)
        {
            Assert.Equal(rows.Length, actual[column].Length);
            for (int r = 0; r < rows.Length; r++)
            {
                Assert.Equal(rows[r].Length, actual[column][r].Length);
                for (int i = 0; i < rows[r].Length; i++)
                {
                    double gap = Math.Abs(rows[r][i] - (double)actual[column][r][i]);
                    worst = Math.Max(worst, gap);
                    Assert.True(gap <= tolerance, $"{name}: {column}[{r}][{i}] is {actual[column][r][i]:R}, committed {rows[r][i]:R}");
                }
            }
        }

        _output.WriteLine($"{name}: largest difference from the committed outputs {worst:E2}");
    }

    private static (Dictionary<string, float[][]> Inputs, Dictionary<string, float[][]> Outputs) Expected(Fixture fixture)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(ExpectedPath(fixture)));
        Assert.Equal(fixture.Name, json.RootElement.GetProperty("component").GetString());
        static Dictionary<string, float[][]> Columns(JsonElement element) => element.EnumerateObject().ToDictionary(p => p.Name,
            p => p.Value.EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray());
        return (Columns(json.RootElement.GetProperty("inputs")), Columns(json.RootElement.GetProperty("outputs")));
    }

    private static void WriteIfAsked(Fixture fixture)
    {
        if (Environment.GetEnvironmentVariable(WriteVariable) != "1")
        {
            return;
        }

        string folder = SourceFolder(fixture.Version);
        if (File.Exists(Path.Combine(folder, fixture.Name + ".zip")))
        {
            return; // committed files are a contract: a format change adds a version folder instead
        }

        var ml = new MLContext();
        var (model, schema) = fixture.Build(ml);
        var inputs = fixture.Inputs(ml);
        Directory.CreateDirectory(folder);
        ml.Model.Save(model, schema, Path.Combine(folder, fixture.Name + ".zip"));
        using (var stream = File.Create(Path.Combine(folder, fixture.Name + ".expected.json")))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("component", fixture.Name);
            writer.WriteString("written by", $"FixtureModels (tests/MlNotes.Trainers.Tests/Fixtures), format {fixture.Version}; floats in round-trip notation");
            WriteColumns(writer, "inputs", fixture.InputColumns.ToDictionary(c => c, c => Read(inputs, c)));
            WriteColumns(writer, "outputs", Outputs(fixture, model.Transform(inputs)));
            writer.WriteEndObject();
        }

        // The copies beside the test binaries, which the tests read.
        Directory.CreateDirectory(Path.GetDirectoryName(ZipPath(fixture.Name, fixture.Version))!);
        File.Copy(Path.Combine(folder, fixture.Name + ".zip"), ZipPath(fixture.Name, fixture.Version), overwrite: true);
        File.Copy(Path.Combine(folder, fixture.Name + ".expected.json"), ExpectedPath(fixture), overwrite: true);
    }

    private static void WriteColumns(Utf8JsonWriter writer, string property, Dictionary<string, float[][]> columns)
    {
        writer.WriteStartObject(property);
        foreach (var (name, rows) in columns)
        {
            writer.WriteStartArray(name);
            foreach (var row in rows)
            {
                writer.WriteStartArray();
                foreach (float value in row)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
