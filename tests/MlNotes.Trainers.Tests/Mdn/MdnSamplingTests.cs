using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Trainers.Tests.Fixtures;
using Xunit;

namespace MlNotes.Trainers.Tests.Mdn;

/// <summary>Sampling draws are keyed by the input row's DataViewRowId: shards, filtered views and resumed runs draw what one full run draws.</summary>
public sealed class MdnSamplingTests
{
    public sealed class IndexedMixture
    {
        public float Index { get; set; }

        [VectorType(2)]
        public float[] MixtureWeights { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureMeans { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] MixtureStandardDeviations { get; set; } = Array.Empty<float>();
    }

    private static IndexedMixture[] Mixtures(int n) => Enumerable.Range(0, n).Select(i => new IndexedMixture
    {
        Index = i,
        MixtureWeights = new[] { 0.1f + 0.08f * i, 0.9f - 0.08f * i },
        MixtureMeans = new[] { -i, 2f * i },
        MixtureStandardDeviations = new[] { 0.5f, 1f + 0.1f * i },
    }).ToArray();

    private static float[][] Samples(MLContext ml, ITransformer model, IDataView data)
        => ml.Data.CreateEnumerable<FixtureZipTests.SamplesOutput>(model.Transform(data), reuseRowObject: false).Select(r => r.Samples).ToArray();

    [Fact]
    public void Shards_a_resumed_run_and_a_filtered_view_draw_what_the_full_run_draws_for_each_row()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Mixtures(10));
        var model = ml.Transforms.SampleFromMixture(numberOfSamples: 3, seed: 7).Fit(data);
        var full = Samples(ml, model, data);
        Assert.Equal(10, full.Length);
        Assert.Equal(3, full[0].Length);

        // Three shards (rows 0-3, 4-6, 7-9), the last one also a batch run resumed after row 6.
        var shards = new[]
        {
            ml.Data.TakeRows(data, 4), ml.Data.SkipRows(ml.Data.TakeRows(data, 7), 4), ml.Data.SkipRows(data, 7),
        }.SelectMany(shard => Samples(ml, model, shard)).ToArray();
        Assert.Equal(full, shards);

        // Rows 3-7 (Index in [3, 8)).
        var filtered = Samples(ml, model, ml.Data.FilterRowsByColumn(data, nameof(IndexedMixture.Index), lowerBound: 3, upperBound: 8));
        Assert.Equal(full[3..8], filtered);
    }

    [Fact]
    public void A_v1_model_keeps_drawing_by_position_also_when_saved_again()
    {
        // The committed v1 zip on a view that skips its first row: positions 0, 1 but ids 1, 2. Keyed by position, it draws for those rows
        // what it draws for the same two rows given as a fresh view (positions and ids 0, 1).
        var ml = new MLContext(1);
        var v1 = ml.Model.Load(FixtureZipTests.ZipPath(FixtureModels.Sampling.Name), out var schema);
        var inputs = FixtureModels.Sampling.Inputs(ml);
        var rows = ml.Data.CreateEnumerable<FixtureModels.MixtureRow>(inputs, reuseRowObject: false).ToArray();
        var skipped = ml.Data.SkipRows(inputs, 1);
        var positions = Samples(ml, v1, ml.Data.LoadFromEnumerable(rows[1..]));
        Assert.Equal(positions, Samples(ml, v1, skipped));

        string path = Path.Combine(Path.GetTempPath(), $"sampling-v1-again-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(v1, schema, path);
            var again = new MLContext(2).Model.Load(path, out _);
            Assert.Equal(positions, Samples(ml, again, skipped));
        }
        finally
        {
            File.Delete(path);
        }

        // A model built today keys by row id: the skipped view draws what the full run draws for rows 1, 2, not the fresh view's draws.
        var today = ml.Transforms.SampleFromMixture("Samples", numberOfSamples: 4, seed: 42).Fit(inputs);
        var fullToday = Samples(ml, today, inputs);
        Assert.Equal(fullToday[1..], Samples(ml, today, skipped));
        Assert.NotEqual(positions, Samples(ml, today, skipped));
    }

    [Fact]
    public void A_prediction_engine_numbers_its_calls_as_row_ids()
    {
        // The engine's input row has id (n, 0) at its n-th call (counted from 0 per engine), so call n draws what Transform draws for the
        // row of id n: the same rows in the same order give Transform's draws, the same row again gives new draws, a fresh engine starts over.
        var ml = new MLContext(1);
        var rows = Mixtures(3);
        var model = ml.Transforms.SampleFromMixture(numberOfSamples: 3, seed: 7).Fit(ml.Data.LoadFromEnumerable(rows));
        var repeated = Samples(ml, model, ml.Data.LoadFromEnumerable(rows.Append(rows[0])));
        var engine = ml.Model.CreatePredictionEngine<IndexedMixture, FixtureZipTests.SamplesOutput>(model);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(repeated[i], engine.Predict(rows[i]).Samples);
        }

        Assert.Equal(repeated[3], engine.Predict(rows[0]).Samples); // call 3: row 0's mixture, id 3's draws
        Assert.NotEqual(repeated[0], repeated[3]);
        var fresh = ml.Model.CreatePredictionEngine<IndexedMixture, FixtureZipTests.SamplesOutput>(model);
        Assert.Equal(repeated[0], fresh.Predict(rows[0]).Samples);
    }
}
