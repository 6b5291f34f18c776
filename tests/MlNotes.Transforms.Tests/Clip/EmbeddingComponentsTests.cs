using System;
using System.Linq;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Clip;
using Xunit;

namespace MlNotes.Transforms.Tests.Clip;

/// <summary>Retrieval, similarity, the generic dual encoder and the zero-shot classifier's bad inputs.</summary>
public sealed class EmbeddingComponentsTests
{
    private static readonly string s_text = RepoPaths.Model("clip-fashion-text.onnx");

    public sealed class VectorRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Key { get; set; } = "";
    }

    public sealed class TowerRow
    {
        public float[] A { get; set; } = Array.Empty<float>();

        public float[] B { get; set; } = Array.Empty<float>();
    }

    [Theory]
    [InlineData(1000, 16, 5, 7)]
    [InlineData(300, 64, 10, 64)]
    [InlineData(3, 8, 5, 2)]
    public void Retrieval_EqualsABruteForceSearch(int indexSize, int dimension, int k, int batchSize)
    {
        var ml = new MLContext(seed: 1);
        var index = Vectors(indexSize, dimension, seed: 1);
        index[indexSize - 1] = index[0].ToArray(); // a tie: the lower index must come first
        var queries = Vectors(37, dimension, seed: 2);
        queries[5] = index[0].ToArray();
        var indexData = Data(ml, index, dimension);
        var search = ml.Transforms.RetrieveNearestEmbeddings(new EmbeddingRetrievalEstimator.Options { TopK = k, BatchSize = batchSize, IndexKeyColumnName = nameof(VectorRow.Key) }).Fit(indexData);
        var output = search.Transform(Data(ml, queries, dimension));

        var indices = output.GetColumn<VBuffer<int>>("TopKIndices").Select(v => v.DenseValues().ToArray()).ToArray();
        var scores = output.GetColumn<VBuffer<float>>("TopKScores").Select(v => v.DenseValues().ToArray()).ToArray();
        var keys = output.GetColumn<VBuffer<ReadOnlyMemory<char>>>("TopKKeys").Select(v => v.DenseValues().Select(m => m.ToString()).ToArray()).ToArray();

        int expectedK = Math.Min(k, indexSize);
        Assert.Equal(expectedK, search.TopK);
        for (int q = 0; q < queries.Length; q++)
        {
            var expected = Enumerable.Range(0, indexSize)
                .Select(i => (Index: i, Score: Cosine(queries[q], index[i])))
                .OrderByDescending(p => p.Score).ThenBy(p => p.Index).Take(expectedK).ToArray();
            for (int r = 0; r < expectedK; r++)
            {
                Assert.Equal(expected[r].Score, scores[q][r], 4);
                if (r + 1 < expectedK && Math.Abs(expected[r].Score - expected[r + 1].Score) < 1e-5)
                {
                    continue; // Near-ties may order differently in float arithmetic; the scores still agree.
                }

                Assert.Equal(expected[r].Index, indices[q][r]);
                Assert.Equal($"key{expected[r].Index}", keys[q][r]);
            }
        }

        if (indexSize > 5)
        {
            Assert.Equal(new[] { 0, indexSize - 1 }, indices[5].Take(2));
        }
    }

    [Fact]
    public void Retrieval_SavesAndLoads_WithIdenticalMatches_AndWorksInPredictionEngine_AndANaNQueryGetsNoMatch()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var index = Data(ml, Vectors(500, 12, seed: 3), 12);
        var queryRows = Vectors(20, 12, seed: 4);
        queryRows[3][2] = float.NaN;
        var queries = Data(ml, queryRows, 12);
        var search = ml.Transforms.RetrieveNearestEmbeddings(topK: 3).Fit(index);
        var before = search.Transform(queries).GetColumn<VBuffer<int>>("TopKIndices").Select(v => v.DenseValues().ToArray()).ToArray();
        string zip = temp.File("retrieval.zip");
        ml.Model.Save(search, queries.Schema, zip);

        var fresh = new MLContext(seed: 2);
        var loaded = fresh.Model.Load(zip, out _);
        var after = loaded.Transform(queries).GetColumn<VBuffer<int>>("TopKIndices").Select(v => v.DenseValues().ToArray()).ToArray();
        var engine = fresh.Model.CreatePredictionEngine<VectorRow, MatchRow>(loaded, inputSchemaDefinition: Schema(12));
        var single = engine.Predict(new VectorRow { Embedding = queryRows[7] });

        Assert.Equal(before, after);
        Assert.Equal(new[] { -1, -1, -1 }, before[3]);
        Assert.Equal(before[7], single.TopKIndices);
    }

    [Fact]
    public void Retrieval_BadInput_ClearErrors()
    {
        var ml = new MLContext(seed: 1);
        var index = Data(ml, Vectors(10, 8, seed: 1), 8);
        var search = ml.Transforms.RetrieveNearestEmbeddings().Fit(index);

        var wrongSize = Assert.Throws<ArgumentOutOfRangeException>(() => search.Transform(Data(ml, Vectors(2, 6, seed: 1), 6)));
        Assert.Contains("Vector<Single, 8>", wrongSize.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<InvalidOperationException>(() => ml.Transforms.RetrieveNearestEmbeddings().Fit(Data(ml, Array.Empty<float[]>(), 8)));
        Assert.Contains("no rows", empty.Message, StringComparison.Ordinal);
        var nan = Vectors(4, 8, seed: 1);
        nan[2][1] = float.NaN;
        var withNaN = Assert.Throws<InvalidOperationException>(() => ml.Transforms.RetrieveNearestEmbeddings().Fit(Data(ml, nan, 8)));
        Assert.Contains("Row 2", withNaN.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.RetrieveNearestEmbeddings(topK: 0));
    }

    [Fact]
    public void Similarity_OfEmbeddingsOfDifferentSizes_FailsWhenThePipelineIsFitted()
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(TowerRow));
        schema[nameof(TowerRow.A)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        schema[nameof(TowerRow.B)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 5);
        var data = ml.Data.LoadFromEnumerable(new[] { new TowerRow { A = new float[4], B = new float[5] } }, schema);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ComputeEmbeddingSimilarity("S", "A", "B").Fit(data));

        Assert.Contains("'B'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Vector<Single, 4>", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ComputeEmbeddingSimilarity("S", "A", "B", logitScale: 0));
    }

    [Fact]
    public void DualEncoder_OfMotionAndMusicTowers_EqualsPyTorch_AndEachSideWorksAlone()
    {
        var ml = new MLContext(seed: 1);
        var motion = TestModels.Input("tower_motion.onnx", "features");
        var music = TestModels.Input("tower_music.onnx", "features");
        var motionOut = TestModels.Output("tower_motion.onnx", "embedding");
        var musicOut = TestModels.Output("tower_music.onnx", "embedding");
        var rows = Enumerable.Range(0, 3).Select(i => new TowerRow { A = motion.FloatRow(i), B = music.FloatRow(i) }).ToArray();
        var schema = SchemaDefinition.Create(typeof(TowerRow));
        schema[nameof(TowerRow.A)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 12);
        schema[nameof(TowerRow.B)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 20);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        using var dual = ml.Transforms.EncodeDual(TestModels.Path("tower_motion.onnx"), TestModels.Path("tower_music.onnx"), logitScale: 14.3f).Fit(data);
        var output = dual.Transform(data);

        var a = output.GetColumn<VBuffer<float>>("EmbeddingA").Select(v => v.DenseValues().ToArray()).ToArray();
        var b = output.GetColumn<VBuffer<float>>("EmbeddingB").Select(v => v.DenseValues().ToArray()).ToArray();
        var similarity = output.GetColumn<float>("Similarity").ToArray();
        var onlyMusic = ml.Transforms.DropColumns(nameof(TowerRow.A)).Fit(data).Transform(data);
        var musicAlone = dual.Transform(onlyMusic);

        Assert.Equal(16, dual.EmbeddingSize);
        for (int i = 0; i < 3; i++)
        {
            var ea = Normalized(motionOut.FloatRow(i));
            var eb = Normalized(musicOut.FloatRow(i));
            Onnx.OnnxScoringTransformerTests.AssertClose(ea, a[i], 1e-5f);
            Onnx.OnnxScoringTransformerTests.AssertClose(eb, b[i], 1e-5f);
            Assert.Equal(14.3f * TensorPrimitives.Dot(ea, eb), similarity[i], 4);
        }

        Assert.Null(musicAlone.Schema.GetColumnOrNull("EmbeddingA"));
        Assert.Null(musicAlone.Schema.GetColumnOrNull("Similarity"));
        Assert.Equal(b, musicAlone.GetColumn<VBuffer<float>>("EmbeddingB").Select(v => v.DenseValues().ToArray()).ToArray());
    }

    [Fact]
    public void DualEncoder_SavesAndLoads_WithIdenticalOutputs()
    {
        using var temp = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 50).Select(_ => new TowerRow
        {
            A = Enumerable.Range(0, 12).Select(_ => (float)random.NextDouble()).ToArray(),
            B = Enumerable.Range(0, 20).Select(_ => (float)random.NextDouble()).ToArray(),
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(TowerRow));
        schema[nameof(TowerRow.A)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 12);
        schema[nameof(TowerRow.B)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 20);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var dual = ml.Transforms.EncodeDual(new DualEncoderEstimator.Options
        {
            ModelFile = TestModels.Path("tower_motion.onnx"),
            ModelBytesB = System.IO.File.ReadAllBytes(TestModels.Path("tower_music.onnx")),
            BatchSize = 7,
            LogitScale = 3f,
        }).Fit(data);
        var before = dual.Transform(data).GetColumn<float>("Similarity").ToArray();
        string zip = temp.File("dual.zip");
        ml.Model.Save(dual, data.Schema, zip);
        dual.Dispose();

        var loaded = new MLContext(seed: 2).Model.Load(zip, out _);
        var after = loaded.Transform(data).GetColumn<float>("Similarity").ToArray();

        Assert.Equal(before, after);
        ((IDisposable)loaded).Dispose();
    }

    [Fact]
    public void DualEncoder_TowersWithDifferentEmbeddingSizes_FailWhenThePipelineIsBuilt()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.EncodeDual(TestModels.Path("tower_motion.onnx"), TestModels.Path("tower_wide.onnx")));

        Assert.Contains("tower_motion", e.Message, StringComparison.Ordinal);
        Assert.Contains("tower_wide", e.Message, StringComparison.Ordinal);
        Assert.Contains("24", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], new[] { "a photo of a {}." }, "at least one label")]
    [InlineData(new[] { "cat", "" }, new[] { "a photo of a {}." }, "Label 1 is empty")]
    [InlineData(new[] { "cat", "dog" }, new[] { "a photo of a {}.", "" }, "template 1 is empty")]
    [InlineData(new[] { "cat", "dog" }, new[] { "a photo of a cat." }, "no {} placeholder")]
    [InlineData(new[] { "cat", "dog" }, new string[0], "at least one prompt template")]
    [InlineData(new[] { "cat", "cat" }, new[] { "a photo of a {}." }, "distinct")]
    public void ZeroShot_BadPrompts_FailWhenThePipelineIsBuilt(string[] labels, string[] templates, string message)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ClassifyZeroShot(s_text, labels, templates));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroShot_OverAnEmbeddingOfAnotherSize_FailsAtFit_NamingTheColumn()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml, Vectors(2, 32, seed: 1), 32);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ClassifyZeroShot(s_text, new[] { "bag" }, inputColumnName: "Embedding").Fit(data));

        Assert.Contains("'Embedding'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Vector<Single, 64>", e.Message, StringComparison.Ordinal);
    }

    private static float[][] Vectors(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray()).ToArray();
    }

    private static float Cosine(float[] a, float[] b) => TensorPrimitives.CosineSimilarity(a, b);

    private static float[] Normalized(float[] v)
    {
        var copy = v.ToArray();
        TensorPrimitives.Divide(copy, TensorPrimitives.Norm(copy), copy);
        return copy;
    }

    private static SchemaDefinition Schema(int dimension)
    {
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[nameof(VectorRow.Embedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return schema;
    }

    private static IDataView Data(MLContext ml, float[][] vectors, int dimension)
        => ml.Data.LoadFromEnumerable(vectors.Select((v, i) => new VectorRow { Embedding = v, Key = $"key{i}" }), Schema(dimension));

    public sealed class MatchRow
    {
        public int[] TopKIndices { get; set; } = Array.Empty<int>();
    }
}
