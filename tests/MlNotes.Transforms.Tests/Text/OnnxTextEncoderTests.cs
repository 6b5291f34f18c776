using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Text;
using Xunit;

namespace MlNotes.Transforms.Tests.Text;

/// <summary>The text encoder on a generic BERT-style export (input_ids, attention_mask, token_type_ids -> last_hidden_state), given a vocab and options alone.</summary>
public sealed class OnnxTextEncoderTests
{
    private static readonly string s_folder = TestModels.Path("text");
    private static readonly string s_model = Path.Combine(s_folder, "bert_like.onnx");
    private static readonly string s_vocab = Path.Combine(s_folder, "bert_like_vocab.txt");

    public sealed class TextRow
    {
        public int Id { get; set; }

        public string? Text { get; set; }
    }

    public sealed class Encoded
    {
        public int Id { get; set; }

        [VectorType(16)]
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void TokenIds_EqualThePythonIds()
    {
        var (texts, ids, _, _) = Fixture();
        using var encoder = Estimator(TextPooling.Mean).Fit(Data(texts));

        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(ids[i], encoder.Tokenize(texts[i]));
        }
    }

    [Theory]
    [InlineData(TextPooling.Mean)]
    [InlineData(TextPooling.Cls)]
    public void Embeddings_EqualPyTorch(TextPooling pooling)
    {
        var (texts, _, mean, cls) = Fixture();
        var data = Data(texts);
        using var encoder = Estimator(pooling).Fit(data);

        var rows = new MLContext().Data.CreateEnumerable<Encoded>(encoder.Transform(data), reuseRowObject: false).ToArray();

        var expected = pooling == TextPooling.Mean ? mean : cls;
        for (int i = 0; i < texts.Length; i++)
        {
            Onnx.OnnxScoringTransformerTests.AssertClose(expected[i], rows[i].Embedding, 1e-4f);
        }
    }

    [Fact]
    public void BatchedAndSorted_EqualsOneRowAtATime_InTheInputOrder()
    {
        var texts = Enumerable.Range(0, 40).Select(i => string.Join(' ', Enumerable.Repeat(i % 3 == 0 ? "the cat sat" : "dog", 1 + (i * 7 % 9)))).ToArray();
        var data = Data(texts);
        using var single = Estimator(TextPooling.Mean, batchSize: 1, window: 1).Fit(data);
        using var batched = Estimator(TextPooling.Mean, batchSize: 8, window: 3).Fit(data);

        // The vocab probe ran on the session the estimator checked the graph with; each Fit runs on a session of its own.
        Assert.Equal(0, single.RunCount);
        var one = new MLContext().Data.CreateEnumerable<Encoded>(single.Transform(data), reuseRowObject: false).ToArray();
        var many = new MLContext().Data.CreateEnumerable<Encoded>(batched.Transform(data), reuseRowObject: false).ToArray();

        Assert.Equal(Enumerable.Range(0, 40), many.Select(r => r.Id));
        for (int i = 0; i < one.Length; i++)
        {
            Onnx.OnnxScoringTransformerTests.AssertClose(one[i].Embedding, many[i].Embedding, 1e-5f);
        }

        Assert.Equal(40, single.RunCount);
        Assert.Equal(5, batched.RunCount); // 40 rows in batches of 8, whatever the sorting within the window of 3 batches
    }

    [Fact]
    public void LongText_IsTruncated_AndCounted_NullAndEmpty_EncodeToClsSep_UnknownCharacters_ToUnk()
    {
        // The last two rows tokenize to the first's ids after the cut ("the cat sat": CLS the cat sat SEP) and to the fourth's ("a€b cat").
        var data = Data(new[] { "the cat sat on the mat", null, "", "€€ cat", "the cat sat", "a€b cat" });
        var options = Options(TextPooling.Mean);
        options.MaxLength = 5;
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(options).Fit(data);

        Assert.Equal(new[] { 2, 67, 68, 69, 3 }, encoder.Tokenize("the cat sat on the mat"));
        Assert.Equal(new[] { 2, 3 }, encoder.Tokenize(null));
        Assert.Equal(new[] { 2, 3 }, encoder.Tokenize(""));
        // BERT's BasicTokenizer keeps "€€" as a word, which WordPiece cannot cover: one [UNK] (id 1), as in Python.
        Assert.Equal(new[] { 2, 1, 68, 3 }, encoder.Tokenize("€€ cat"));
        Assert.Equal(new[] { 2, 1, 3 }, encoder.Tokenize("a€b"));
        Assert.Equal(new[] { 2, 30, 56, 1, 3 }, encoder.Tokenize("zz^zz")); // z ##z [UNK] z ##z, cut to 5 tokens
        var embeddings = encoder.Transform(data).GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.Equal(embeddings[1], embeddings[2]);
        Assert.Equal(embeddings[4], embeddings[0]); // truncation keeps the first tokens and closes with SEP
        Assert.Equal(embeddings[5], embeddings[3]); // each run of unknown characters is one [UNK]
        Assert.NotEqual(embeddings[0], embeddings[1]);
        Assert.Equal(1, encoder.TruncatedCount); // the first row, read once (Tokenize does not count)
        Assert.Equal(1, encoder.ResetTruncatedCount());
        Assert.Equal(0, encoder.TruncatedCount);
        _ = encoder.Transform(data).GetColumn<VBuffer<float>>("Embedding").ToArray();
        Assert.Equal(1, encoder.TruncatedCount); // one more pass, counted from the reset
    }

    [Fact]
    public void Normalize_GivesUnitVectors_AndTokenStatesHaveOneRowPerToken()
    {
        var texts = new[] { "hello world", "the dog ran fast" };
        var data = Data(texts);
        var options = Options(TextPooling.Max);
        options.Normalize = true;
        options.TokenEmbeddingsColumnName = "Tokens";
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(options).Fit(data);
        var output = encoder.Transform(data);

        var embeddings = output.GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();
        var tokens = output.GetColumn<VBuffer<float>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.All(embeddings, e => Assert.Equal(1.0, Math.Sqrt(e.Sum(x => (double)x * x)), 5));
        Assert.Equal(encoder.Tokenize(texts[1]).Count * 16, tokens[1].Length);
    }

    [Fact]
    public void SaveLoad_InAFreshContext_IdenticalOutputs_VocabInsideTheZip_AndPredictionEngine()
    {
        using var temp = TestModels.TempFolder();
        string vocabCopy = temp.File("vocab.txt");
        File.Copy(s_vocab, vocabCopy);
        var (texts, _, _, _) = Fixture();
        var data = Data(texts);
        var options = Options(TextPooling.Mean);
        options.VocabFile = vocabCopy;
        var ml = new MLContext(seed: 1);
        using var encoder = ml.Transforms.EncodeTextOnnx(options).Fit(data);
        var before = ml.Data.CreateEnumerable<Encoded>(encoder.Transform(data), reuseRowObject: false).ToArray();
        string zip = temp.File("encoder.zip");
        ml.Model.Save(encoder, data.Schema, zip);
        File.Delete(vocabCopy);

        var fresh = new MLContext(seed: 5);
        using var loaded = (OnnxTextEncoderTransformer)fresh.Model.Load(zip, out _);
        var after = fresh.Data.CreateEnumerable<Encoded>(loaded.Transform(data), reuseRowObject: false).ToArray();
        using var engine = fresh.Model.CreatePredictionEngine<TextRow, Encoded>(loaded);
        var single = engine.Predict(new TextRow { Id = 9, Text = texts[1] });

        for (int i = 0; i < before.Length; i++)
        {
            Assert.Equal(before[i].Embedding, after[i].Embedding);
        }

        Onnx.OnnxScoringTransformerTests.AssertClose(before[1].Embedding, single.Embedding, 1e-5f);
    }

    [Fact]
    public async System.Threading.Tasks.Task AsEmbeddingGenerator_GivesTheTransformsVectors()
    {
        var (texts, _, _, _) = Fixture();
        var data = Data(texts);
        using var encoder = Estimator(TextPooling.Mean).Fit(data);
        var expected = new MLContext().Data.CreateEnumerable<Encoded>(encoder.Transform(data), reuseRowObject: false).ToArray();
        using var generator = encoder.AsEmbeddingGenerator();

        var generated = await generator.GenerateAsync(texts);
        var metadata = (Microsoft.Extensions.AI.EmbeddingGeneratorMetadata?)generator.GetService(typeof(Microsoft.Extensions.AI.EmbeddingGeneratorMetadata));

        Assert.Equal(texts.Length, generated.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(expected[i].Embedding, generated[i].Vector.ToArray());
        }

        Assert.Equal(16, metadata!.DefaultModelDimensions);
    }

    [Fact]
    public void MissingVocab_NamesTheFile()
    {
        var options = Options(TextPooling.Mean);
        options.VocabFile = Path.Combine(s_folder, "no-such-vocab.txt");

        var e = Assert.Throws<FileNotFoundException>(() => new MLContext().Transforms.EncodeTextOnnx(options));

        Assert.Contains("no-such-vocab.txt", e.Message);
    }

    [Fact]
    public void VocabLargerThanTheEmbeddingTable_FailsWhenThePipelineIsBuilt_NamingFileAndSizes()
    {
        var options = Options(TextPooling.Mean);
        options.VocabFile = Path.Combine(s_folder, "bert_like_vocab_too_big.txt");

        var e = Assert.Throws<InvalidOperationException>(() => new MLContext().Transforms.EncodeTextOnnx(options));

        Assert.Contains("bert_like_vocab_too_big.txt' has 102 tokens", e.Message);
        Assert.Contains("has 82 rows", e.Message);
    }

    [Fact]
    public void TextColumnOfTheWrongType_IsRejected()
    {
        var data = new MLContext().Data.LoadFromEnumerable(new[] { new { Text = 3f } });

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Estimator(TextPooling.Mean).Fit(data));

        Assert.Contains("Schema mismatch for input column 'Text'", e.Message);
    }

    private static OnnxTextEncoderEstimator.Options Options(TextPooling pooling, int batchSize = 4, int window = 2) => new()
    {
        ModelFile = s_model,
        VocabFile = s_vocab,
        Pooling = pooling,
        MaxLength = 32,
        BatchSize = batchSize,
        SortWindow = window,
    };

    private static OnnxTextEncoderEstimator Estimator(TextPooling pooling, int batchSize = 4, int window = 2)
        => new MLContext(seed: 1).Transforms.EncodeTextOnnx(Options(pooling, batchSize, window));

    private static IDataView Data(string?[] texts)
        => new MLContext().Data.LoadFromEnumerable(texts.Select((t, i) => new TextRow { Id = i, Text = t }));

    private static (string[] Texts, int[][] Ids, float[][] Mean, float[][] Cls) Fixture()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_folder, "bert_like_fixture.json")));
        var root = document.RootElement;
        var texts = root.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var ids = root.GetProperty("token_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        float[][] Rows(string name)
        {
            var data = root.GetProperty("outputs").GetProperty(name).GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            return Enumerable.Range(0, texts.Length).Select(i => data.Skip(i * 16).Take(16).ToArray()).ToArray();
        }

        return (texts, ids, Rows("mean"), Rows("cls"));
    }
}
