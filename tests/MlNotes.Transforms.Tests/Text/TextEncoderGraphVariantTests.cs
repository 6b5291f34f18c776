using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Text;
using Xunit;

namespace MlNotes.Transforms.Tests.Text;

/// <summary>
/// The text encoder on graphs beside bert_like (make_text_variants.py): a pooled output smaller than the hidden size, int32
/// ids with float16 states; and the tokenizer's normalization flags, each of which changes the ids.
/// </summary>
public sealed class TextEncoderGraphVariantTests
{
    private static readonly string s_folder = TestModels.Path("text");
    private static readonly string s_vocab = Path.Combine(s_folder, "bert_like_vocab.txt");

    [Fact]
    public void PooledOutputSmallerThanTheHiddenSize_EmbeddingIsThePooled_TokenStatesKeepTheHiddenSize()
    {
        using var fixture = Fixture();
        var texts = Texts(fixture);
        var data = Data(texts);
        using var temp = TestModels.TempFolder();
        string manifest = temp.File("pooled.json");
        File.WriteAllText(manifest, """{"pooling": {"kind": "masked-mean", "output": "pooled"}}""");
        var options = Options("bert_pooled.onnx");
        options.ManifestFile = manifest;
        options.TokenEmbeddingsColumnName = "Tokens";
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(options).Fit(data);
        var output = encoder.Transform(data);

        var embeddings = output.GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();
        var tokens = output.GetColumn<VBuffer<float>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray();

        var pooled = Floats(fixture.RootElement.GetProperty("pooled"));
        var states = fixture.RootElement.GetProperty("pooled_graph_tokens").EnumerateArray().Select(Floats).ToArray();
        Assert.Equal(8, encoder.EmbeddingSize);
        for (int i = 0; i < texts.Length; i++)
        {
            // Measured gap against PyTorch: under 1e-6 on both; 1e-4 is the suite's float32 graph tolerance.
            Onnx.OnnxScoringTransformerTests.AssertClose(pooled.Skip(i * 8).Take(8).ToArray(), embeddings[i], 1e-4f);
            Assert.Equal(encoder.Tokenize(texts[i]).Count * 16, tokens[i].Length);
            Onnx.OnnxScoringTransformerTests.AssertClose(states[i], tokens[i], 1e-4f);
        }
    }

    [Fact]
    public void Int32IdsAndFloat16States_MeanPoolingEqualsPyTorch()
    {
        using var fixture = Fixture();
        var texts = Texts(fixture);
        var data = Data(texts);
        var options = Options("bert_i32_f16.onnx");
        options.Pooling = TextPooling.Mean;
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(options).Fit(data);

        var embeddings = encoder.Transform(data).GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();

        var expected = Floats(fixture.RootElement.GetProperty("f16_mean"));
        for (int i = 0; i < texts.Length; i++)
        {
            // Both sides pool the same float16 states in float32; measured gap under 1e-6, 1e-4 leaves the float32 sum order.
            Onnx.OnnxScoringTransformerTests.AssertClose(expected.Skip(i * 16).Take(16).ToArray(), embeddings[i], 1e-4f);
        }
    }

    [Fact]
    public void LowerCaseFlag_ChangesTheIds()
    {
        Assert.Equal(new[] { 2, 75, 3 }, Ids("Hello", lowerCase: true));
        Assert.Equal(new[] { 2, 1, 3 }, Ids("Hello", lowerCase: false)); // the vocab has no upper-case pieces
    }

    [Fact]
    public void StripAccentsFlag_ChangesTheIds()
    {
        Assert.Equal(new[] { 2, 7, 31, 36, 35, 3 }, Ids("café", manifest: """{"tokenizer": {"strip_accents": true}}""")); // c ##a ##f ##e
        Assert.Equal(new[] { 2, 1, 3 }, Ids("café", manifest: """{"tokenizer": {"strip_accents": false}}"""));
    }

    [Fact]
    public void TokenizeCjkFlag_ChangesTheIds()
    {
        Assert.Equal(new[] { 2, 1, 68, 3 }, Ids("猫cat", manifest: """{"tokenizer": {"tokenize_cjk_chars": true}}""")); // [UNK] cat
        Assert.Equal(new[] { 2, 1, 3 }, Ids("猫cat", manifest: """{"tokenizer": {"tokenize_cjk_chars": false}}""")); // one word
    }

    [Fact]
    public void ManifestSpecialTokenIds_NotTheVocabs_AreRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => Ids("x", manifest: """{"tokenizer": {"special_token_ids": {"pad": 0, "cls": 3}}}"""));

        Assert.Contains("sets tokenizer.special_token_ids.cls (3), which the text encoder does not support (supported: keys unk, cls, sep, pad, mask, each the vocab's id of its token (here 2))", e.Message, StringComparison.Ordinal);
    }

    private static int[] Ids(string text, bool? lowerCase = null, string? manifest = null)
    {
        using var temp = TestModels.TempFolder();
        var options = Options("bert_like.onnx");
        options.LowerCase = lowerCase;
        if (manifest != null)
        {
            options.ManifestFile = temp.File("m.json");
            File.WriteAllText(options.ManifestFile, manifest);
        }

        using var encoder = new MLContext().Transforms.EncodeTextOnnx(options).Fit(Data(new[] { "x" }));
        return encoder.Tokenize(text).ToArray();
    }

    private static OnnxTextEncoderEstimator.Options Options(string model) => new()
    {
        ModelFile = Path.Combine(s_folder, model),
        VocabFile = s_vocab,
        MaxLength = 32,
        BatchSize = 2,
        SortWindow = 2,
    };

    private static IDataView Data(string[] texts) => new MLContext().Data.LoadFromEnumerable(texts.Select(t => new OnnxTextEncoderTests.TextRow { Text = t }));

    private static JsonDocument Fixture() => JsonDocument.Parse(File.ReadAllText(Path.Combine(s_folder, "text_variants_fixture.json")));

    private static string[] Texts(JsonDocument fixture) => fixture.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();
}
