using System;
using System.Collections.Generic;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Text;
using Xunit;

namespace MlNotes.Transforms.Tests.Text;

/// <summary>The text encoder's settings from options, manifest and graph metadata: a pure function, no ONNX Runtime session.</summary>
public sealed class TextEncoderResolverTests
{
    private const string Source = "'test.json'";

    [Fact]
    public void NoManifest_TakesTheGraphsTensors_MeanPooling_AndTheHiddenSize()
    {
        var config = TextEncoderResolver.Resolve(Options(), null, Graph());

        Assert.Equal(TextPooling.Mean, config.Pooling);
        Assert.Equal(("input_ids", "attention_mask", "token_type_ids", "last_hidden_state"), (config.InputIdsTensorName, config.AttentionMaskTensorName, config.TokenTypeIdsTensorName, config.HiddenStateTensorName));
        Assert.Equal((16, 16, 512), (config.EmbeddingSize, config.HiddenSize, config.MaxLength));
        Assert.Equal((true, true, true), (config.LowerCase, config.StripAccents, config.TokenizeCjk));
    }

    [Fact]
    public void ManifestPoolingOutput_PoolsInTheGraph_EmbeddingSizeIsThePooledSize_HiddenSizeStaysTheTokenStates()
    {
        var manifest = Manifest("""{"pooling": {"kind": "masked-mean", "output": "pooled"}}""");

        var config = TextEncoderResolver.Resolve(Options(), manifest, Graph(pooled: 8));

        Assert.Equal(TextPooling.Graph, config.Pooling);
        Assert.Equal((8, 16), (config.EmbeddingSize, config.HiddenSize));
    }

    [Fact]
    public void ManifestFlags_AreHonoured()
    {
        var manifest = Manifest("""{"tokenizer": {"kind": "bert-wordpiece", "lower_case": false, "strip_accents": false, "tokenize_cjk_chars": false, "max_length": 40, "max_chars_per_word": 7, "continuation_prefix": "##", "special_tokens": {"unk": "<unk>"}}, "pooling": {"kind": "cls"}}""");

        var config = TextEncoderResolver.Resolve(Options(), manifest, Graph());

        Assert.Equal((false, false, false, 40, 7, "<unk>"), (config.LowerCase, config.StripAccents, config.TokenizeCjk, config.MaxLength, config.MaxCharsPerWord, config.UnknownToken));
        Assert.Equal(TextPooling.Cls, config.Pooling);
    }

    [Theory]
    [InlineData("""{"tokenizer": {"kind": "clip-bpe"}}""", "tokenizer.kind ('clip-bpe'), which the text encoder does not support (supported: bert-wordpiece, sentencepiece, byte-level-bpe)")]
    [InlineData("""{"tokenizer": {"kind": "bert-wordpiece", "add_prefix_space": true}}""", "tokenizer.id_offset or add_prefix_space, which the text encoder does not support")]
    [InlineData("""{"tokenizer": {"kind": "sentencepiece", "strip_accents": true}}""", "tokenizer.strip_accents, tokenize_cjk_chars or max_chars_per_word, which the text encoder does not support")]
    [InlineData("""{"pooling": {"kind": "median"}}""", "pooling.kind ('median'), which the text encoder does not support (supported: mean, masked-mean, cls, max, masked-max, mean-sqrt-len, mean_sqrt_len_tokens, end-of-text, eot)")]
    [InlineData("""{"pooling": {"kind": "CLS"}}""", "pooling.kind ('CLS')")] // names parse strictly: no case folding
    [InlineData("""{"tokenizer": {"continuation_prefix": "@@"}}""", "tokenizer.continuation_prefix (\"@@\"), which the text encoder does not support (supported: \"##\")")]
    [InlineData("""{"tokenizer": {"special_tokens": {"bos": "<s>"}}}""", "tokenizer.special_tokens.bos, which the text encoder does not support (supported: unk, cls, sep, pad, mask)")]
    [InlineData("""{"pooling": {"kind": "cls", "token": "[SEP]"}}""", "pooling.token (\"[SEP]\")")]
    public void UnsupportedManifestField_IsRefused_NamingTheManifestTheFieldAndTheSupportedValues(string json, string expected)
    {
        var e = Assert.Throws<NotSupportedException>(() => TextEncoderResolver.Resolve(Options(), Manifest(json), Graph()));

        Assert.StartsWith($"The model manifest {Source} sets ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EndOfTextToken_IsTheSepToken_Accepted()
    {
        var config = TextEncoderResolver.Resolve(Options(), Manifest("""{"pooling": {"kind": "end-of-text", "token": "[SEP]"}}"""), Graph());

        Assert.Equal(TextPooling.EndOfText, config.Pooling);
    }

    [Fact]
    public void GraphPooling_WithoutAPooledOutput_IsRefused()
    {
        var options = Options();
        options.Pooling = TextPooling.Graph;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TextEncoderResolver.Resolve(options, null, Graph()));

        Assert.Equal("Pooling", e.ParamName);
        Assert.StartsWith("Pooling Graph needs the graph's pooled output: the ONNX model g.onnx has none named", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestPoolingOutput_MissingFromTheGraph_IsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TextEncoderResolver.Resolve(Options(), Manifest("""{"pooling": {"output": "pooled"}}"""), Graph()));

        Assert.Equal($"The model manifest {Source} names the pooling output 'pooled', which the ONNX model g.onnx does not have (its outputs: last_hidden_state).", e.Message);
    }

    [Fact]
    public void Int32IdsAndFloat16States_AreAccepted_ByteIds_AreRefused()
    {
        var config = TextEncoderResolver.Resolve(Options(), null, Graph(ids: TensorElementType.Int32, states: TensorElementType.Float16));
        Assert.Equal(16, config.EmbeddingSize);

        var e = Assert.Throws<NotSupportedException>(() => TextEncoderResolver.Resolve(Options(), null, Graph(ids: TensorElementType.UInt8)));

        Assert.Equal("The ONNX input 'input_ids' of model g.onnx has element type UInt8; a text encoder supports Int64, Int32.", e.Message);
    }

    [Fact]
    public void BadSortWindow_IsRefusedAsAnOption()
    {
        var options = Options();
        options.SortWindow = 0;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TextEncoderResolver.Resolve(options, null, Graph()));

        Assert.Equal("SortWindow", e.ParamName);
    }

    private static OnnxTextEncoderEstimator.Options Options() => new();

    private static ModelManifest Manifest(string json) => ModelManifest.Parse(json, Source, corruptIsFormatError: false);

    private static TextGraph Graph(int pooled = 0, TensorElementType ids = TensorElementType.Int64, TensorElementType states = TensorElementType.Float)
    {
        var inputs = new Dictionary<string, TextGraphTensor>
        {
            ["input_ids"] = new(ids, new[] { -1, -1 }),
            ["attention_mask"] = new(ids, new[] { -1, -1 }),
            ["token_type_ids"] = new(ids, new[] { -1, -1 }),
        };
        var outputs = new Dictionary<string, TextGraphTensor> { ["last_hidden_state"] = new(states, new[] { -1, -1, 16 }) };
        if (pooled > 0)
        {
            outputs["pooled"] = new(states, new[] { -1, pooled });
        }

        return new TextGraph("g.onnx", inputs, outputs);
    }
}
