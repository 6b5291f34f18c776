using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Text;
using Microsoft.ML;
using Xunit;

namespace MlNotes.Transforms.Tests.Persistence;

/// <summary>
/// Each loader's checks, triggered by one corrupt entry in a copy of the committed v1 fixture zip: the load must fail with a
/// <see cref="FormatException"/> naming the entry and the problem (not an exception from deep inside a reader or ONNX Runtime).
/// </summary>
/// <remarks>
/// Edits of <c>Model.key</c> keep its length (ML.NET's header records where its string table starts), so they either overwrite
/// a number at its offset in the loader's fields (after ML.NET's 256-byte header: the layout the loader writes, as commented)
/// or replace a piece of a string, which ML.NET stores as UTF-16, by another of the same length.
/// </remarks>
public sealed class CorruptZipTests
{
    private const string Dir = "TransformerChain/";
    private const string Key = Dir + "Model.key";
    private const int Header = 256;

    // OnnxModel.Save's fields in Model.key: SHA-256 (Int32 length 32, 32 bytes), the name's string id, intra and inter threads.
    private const int OnnxFields = 4 + 32 + 4 + 4 + 4;

    // The image encoder v3's fields before its v3 trailer (see the cases).
    private const int ImageEncoderV3 = OnnxFields + (5 * 4) + 1 + 61 + (4 * 4) + (2 * 4);

    // The text encoder v2's fields before its pooling: the model's, then 16 string ids.
    private const int TextFields = OnnxFields + (16 * 4);

    private static readonly Corruption[] s_cases =
    {
        // The ONNX scoring transformer: its model's fields, then 5 input and 5 output bindings (count, then string ids), the batch size.
        new("onnx-scoring", "tampered ONNX bytes", Dir + "OnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("onnx-scoring", "truncated ONNX bytes", Dir + "OnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("onnx-scoring", "negative thread count", Key, Int32At(4 + 32 + 4, -3), "thread counts of 'OnnxModel' are negative (intra-op -3, inter-op 0)"),
        new("onnx-scoring", "more bindings than inputs", Key, Int32At(OnnxFields, 9), "it binds 9 ONNX inputs; the saved ONNX model has 5"),
        new("onnx-scoring", "batch size 0", Key, Int32At(OnnxFields + 4 + (5 * 8) + 4 + (5 * 8), 0), "its batch size is 0, not at least 1"),

        new("image-classifier", "tampered ONNX bytes", Dir + "OnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("image-classifier", "malformed settings JSON", Key, Text("\"BatchSize\":", "\"BatchSize\";"), "the image classifier settings are not valid JSON"),
        new("image-classifier", "batch size 0", Key, Text("\"BatchSize\":2", "\"BatchSize\":0"), "its batch size is 0, not at least 1"),
        new("image-classifier", "top k past the classes", Key, Text("\"TopK\":2", "\"TopK\":9"), "its TopK 9 is not between 0 and the 5 classes"),
        new("image-classifier", "a class name fewer", Key, Text(",\"frog\"]", "],\"X\":1 "), "it has 4 class names (or an empty one) for the 5 classes of the logits 'output'"),
        new("image-classifier", "std 0", Key, Text("\"Std\":[0.229", "\"Std\":[0.000"), "its preprocessing Std [0, 0.224, 0.225] is not positive"),
        // System.Text.Json reads a number past Single's range as Infinity, without an error: the loader's check catches it.
        new("image-classifier", "mean past Single's range", Key, Text("\"Mean\":[0.485", "\"Mean\":[1e999"), "preprocessing Mean[0] is Infinity, not a finite number"),

        new("image-encoder", "truncated ONNX bytes", Dir + "OnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("image-encoder", "image tensor not in the graph", Key, Text("\"ImageTensorName\":\"input\"", "\"ImageTensorName\":\"inpuX\""), "its image tensor 'inpuX' is not an input of the saved ONNX model (its inputs: input)"),
        // The image encoder v3: its model's fields, 5 string ids, Normalize (1), the v2 preprocessing (61 bytes for 3 channels), raw
        // width, height, channels and batch size, 2 string ids, then layout, channel order, interpolation (4 each), offset (8), the
        // mean image's count (-1: none) and the token pooling (-1: none).
        new("image-encoder", "unknown interpolation (v3)", Key, Int32At(ImageEncoderV3 + 8, 7), "its preprocessing offset, layout (0), channel order (0) or interpolation (7) is not valid", "v3"),
        new("image-encoder", "a mean image of 5 values (v3)", Key, Int32At(ImageEncoderV3 + 20, 5), "its preprocessing mean image has 5 values, not 150528", "v3"),
        new("image-encoder", "unknown token pooling (v3)", Key, Int32At(ImageEncoderV3 + 24, 9), "its token pooling 9 is unknown", "v3"),
        new("image-encoder", "three raw channels become two", Key, Text("\"RawPixelChannels\":0", "\"RawPixelChannels\":2"), "its raw pixel size 0 x 0 x 2 is not valid"),

        new("text-encoder", "truncated vocab", Dir + "Vocab", Truncate, "the vocab ends before its saved length"),
        new("text-encoder", "vocab not base-64", Dir + "Vocab", Utf8Text("W1BB", "*1PA"), "the vocab is not the base-64 text it was saved as"),
        new("text-encoder", "maximum length 1", Key, Text("\"MaxLength\":32", "\"MaxLength\":1 "), "its maximum length 1 leaves no room for [CLS] and [SEP]"),
        new("text-encoder", "embedding size not the graph's", Key, Text("\"EmbeddingSize\":16", "\"EmbeddingSize\":17"), "its embedding size 17 is not the 16 of the saved ONNX model's 'last_hidden_state'"),
        new("text-encoder", "unknown pooling", Key, Text("\"Pooling\":2", "\"Pooling\":9"), "its pooling 9 is unknown"),
        new("clip-text-encoder", "tampered ONNX bytes", Dir + "OnnxModel", FlipMiddleByte, "SHA-256 does not match"),

        // The text encoder v2: its model's fields, 16 string ids (5 columns, 6 tensors, 5 special tokens), then pooling (Int32),
        // Normalize, MaxLength, LowerCase, StripAccents, TokenizeCjk, MaxCharsPerWord, EmbeddingSize, HiddenSize, BatchSize,
        // SortWindow, the class count and its string ids.
        new("text-encoder", "truncated vocab (v2)", Dir + "Vocab", Truncate, "the vocab ends before its saved length", "v2"),
        new("text-encoder", "unknown pooling (v2)", Key, Int32At(TextFields, 9), "its pooling 9 is unknown", "v2"),
        new("text-encoder", "maximum length 1 (v2)", Key, Int32At(TextFields + 5, 1), "its maximum length 1 leaves no room for [CLS] and [SEP]", "v2"),
        new("text-encoder", "max chars per word 0 (v2)", Key, Int32At(TextFields + 12, 0), "its maximum characters per word is 0, not at least 1", "v2"),
        new("text-encoder", "embedding size not the graph's (v2)", Key, Int32At(TextFields + 16, 17), "its embedding size 17 is not the 16 of the saved ONNX model's 'last_hidden_state'", "v2"),
        new("text-encoder", "hidden size not the graph's (v2)", Key, Int32At(TextFields + 20, 15), "its token state size 15 is not the 16 of the saved ONNX model's 'last_hidden_state'", "v2"),
        new("text-encoder", "sort window 0 (v2)", Key, Int32At(TextFields + 28, 0), "its batch size 2 and sort window 0 must be at least 1", "v2"),
        new("text-encoder", "negative class count (v2)", Key, Int32At(TextFields + 32, -1), "its class count -1 is not between 0 and 1000000", "v2"),
        new("text-encoder", "a string id past the table (v2)", Key, Int32At(OnnxFields, 999), "or holds a value that does not decode", "v2"),
        new("clip-text-encoder", "tampered ONNX bytes (v2)", Dir + "OnnxModel", FlipMiddleByte, "SHA-256 does not match", "v2"),

        // v3: v2's fields, then the tokenizer's kind, id offset and prefix space after the class count (0 classes here).
        new("text-encoder", "unknown tokenizer (v3)", Key, Int32At(TextFields + 36, 7), "its tokenizer 7 is unknown", "v3"),
        new("text-encoder-sentencepiece", "negative id offset (v3)", Key, Int32At(TextFields + 40, -1), "its id offset -1 is not 0", "v3"),
        new("text-encoder-sentencepiece", "truncated model (v3)", Dir + "Vocab", Truncate, "the vocab ends before its saved length", "v3"),
        new("text-encoder-bpe", "truncated merges (v3)", Dir + "Merges", Truncate, "the merges ends before its saved length", "v3"),
        new("text-encoder-bpe", "id offset on a BPE (v3)", Key, Int32At(TextFields + 40, 1), "between 1 and 1000 for SentencePiece", "v3"),

        new("vae-encoder", "tampered encoder bytes", Dir + "EncoderOnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("vae-encoder", "latent size not the graph's", Key, Text("\"LatentSize\":4", "\"LatentSize\":5"), "its latent size 5 is not the encoder's (4)"),
        new("vae-encoder", "sample count 0", Key, Text("\"SampleCount\":2", "\"SampleCount\":0"), "its sample count is 0, not at least 1"),
        new("vae-decoder", "truncated decoder bytes", Dir + "DecoderOnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("vae-decoder", "logits tensor not in the graph", Key, Text("\"LogitsTensorName\":\"logits\"", "\"LogitsTensorName\":\"logitX\""), "its logits tensor 'logitX' is not an output of the saved ONNX model (its outputs: logits)"),
        new("vae-scorer", "malformed settings JSON", Key, Text("{\"InputColumnName\"", "[\"InputColumnName\""), "the VAE settings are not valid JSON"),
        new("vae-scorer", "batch size 0", Key, Text("\"BatchSize\":2", "\"BatchSize\":0"), "its batch size is 0, not at least 1"),
        new("vae-anomaly-detector", "threshold past Single's range", Key, Text("\"Threshold\":45.913643", "\"Threshold\":1e9999999"), "its anomaly threshold Infinity is not a finite number"),
        new("vae-anomaly-detector", "negative percentile", Key, Text("\"ThresholdPercentile\":50", "\"ThresholdPercentile\":-5"), "its threshold percentile -5 is not in [0, 100)"),
        new("vae-anomaly-detector", "std 0", Key, Text("\"Std\":[1]", "\"Std\":[0]"), "its preprocessing Std [0] is not positive"),

        // The dual encoder: both models' fields, 9 string ids (5 columns, 4 tensors), the logit scale, Normalize, the batch size.
        new("dual-encoder", "tampered tower B bytes", Dir + "OnnxModelB", FlipMiddleByte, "SHA-256 does not match"),
        new("dual-encoder", "NaN logit scale", Key, SingleAt((2 * OnnxFields) + (9 * 4), float.NaN), "its logit scale NaN is not a positive finite number"),
        new("dual-encoder", "infinite logit scale", Key, SingleAt((2 * OnnxFields) + (9 * 4), float.PositiveInfinity), "its logit scale Infinity is not a positive finite number"),
        new("dual-encoder", "batch size 0", Key, Int32At((2 * OnnxFields) + (9 * 4) + 4 + 1, 0), "its batch size is 0, not at least 1"),

        // Embedding similarity: 3 string ids, the logit scale.
        new("embedding-similarity", "NaN logit scale", Key, SingleAt(3 * 4, float.NaN), "its logit scale NaN is not a positive finite number"),
        new("embedding-similarity", "negative logit scale", Key, SingleAt(3 * 4, -1f), "its logit scale -1 is not a positive finite number"),

        // Retrieval: 4 string ids, top k, batch size, count (20) and dimension (6), then the 20 x 6 index.
        new("embedding-retrieval", "NaN in the index", Key, SingleAt((8 * 4) + (4 * ((6 * 5) + 2)), float.NaN), "its index row 5 has the non-finite value NaN at 2"),
        new("embedding-retrieval", "top k 0", Key, Int32At(4 * 4, 0), "its top k is 0, not at least 1"),
        new("embedding-retrieval", "more rows than saved", Key, Int32At(6 * 4, 100_000), "its index of 100000 x 6 values is larger than the entry"),

        // Zero-shot: 3 string ids, the label count (3), 3 label ids, the embedding size (16), the logit scale, then 3 x 16 embeddings.
        new("zero-shot-classifier", "infinite label embedding", Key, SingleAt((9 * 4) + (4 * (16 + 5)), float.PositiveInfinity), "the label embedding of 'dog' has the non-finite value Infinity at 5"),
        new("zero-shot-classifier", "NaN logit scale", Key, SingleAt(8 * 4, float.NaN), "its logit scale NaN is not a positive finite number"),
        new("zero-shot-classifier", "no labels", Key, Int32At(3 * 4, 0), "it holds 0 labels"),
        new("zero-shot-classifier", "a label twice", Key, CopyInt32(from: 4 * 4, to: 5 * 4), "its labels are not distinct"),

        // The VQ-VAE (v1): has-encoder, has-decoder (1 byte each), each graph's OnnxModel fields, 7 column string ids, with an encoder
        // 2 tensor ids and the preprocessing (5 Int32, crop 1 byte, scale 8, Mean and Std each a count and 1 value), with a decoder
        // 2 tensor ids, then grid height, grid width, code size, codebook size (4 each), the 64 x 16 codebook, the batch size.
        new("vqvae-decoder", "truncated decoder bytes", Dir + "DecoderOnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("vqvae-decoder", "grid not the graph's", Key, Int32At(VqDecoderOnly, 8), "the decoder's codes are [-1, 7, 7, 16], not [batch, 8, 7, 16]"),
        new("vqvae-decoder", "code size 0", Key, Int32At(VqDecoderOnly + 8, 0), "its codebook of 64 codes of size 0 on a 7 x 7 grid is not at least 1 of each"),
        new("vqvae-decoder", "NaN in the codebook", Key, SingleAt(VqDecoderOnly + 16 + (4 * ((16 * 3) + 2)), float.NaN), "codebook[50] is NaN, not a finite number"),
        new("vqvae-decoder", "batch size 0", Key, Int32At(VqDecoderOnly + 16 + (64 * 16 * 4), 0), "its batch size is 0, not at least 1"),

        // The GAN generator: its model's fields, the graph kind, 5 string ids, 2 tensor names, then noise size, seed and batch size.
        new("gan-generator", "unknown graph kind", Key, Int32At(OnnxFields, 7), "its graph kind is 7, not 1 (generator) or 2 (discriminator)"),
        new("gan-generator", "noise size not the graph's", Key, Int32At(OnnxFields + 4 + (7 * 4), 65), "its noise size 65 is not the graph's [-1, 64] noise input"),
        new("gan-generator", "batch size 0", Key, Int32At(OnnxFields + 4 + (7 * 4) + 8, 0), "its batch size is 0, not at least 1"),
        new("gan-discriminator", "truncated ONNX bytes", Dir + "OnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("gan-discriminator", "a generator's graph kind", Key, Int32At(OnnxFields, 1), "it holds a GAN generator, not a discriminator"),
        new("vqvae-reconstructor", "tampered encoder bytes", Dir + "EncoderOnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("vqvae-reconstructor", "latents tensor not in the graph", Key, Text("latents", "latentX"), "its latents tensor 'latentX' is not an output of the saved ONNX model (its outputs: latents)"),
        new("vqvae-reconstructor", "std 0", Key, SingleAt(VqPair + 41, 0f), "its preprocessing Std [0] is not positive"),
        new("vqvae-reconstructor", "grid not the encoder's", Key, Int32At(VqPair + 45 + 8 + 4, 6), "the encoder's latents are [-1, 7, 7, 16], not [batch, 7, 6, 16]"),

        // The sequence generator (the decoder-only LM: no encoder stream): the decoder's OnnxModel fields, the 7 column names as
        // length-prefixed UTF-8 strings (Text, GeneratedText, GeneratedTokens, Score, Finished, NBestTexts, NBestScores: 73 bytes), then
        // strategy, beam width (4 each), length penalty (8), n-best (4), temperature (8), top-k (4), top-p (8), seed, max new
        // tokens (4 each), use-cache, refuse-unknown (1 each), batch size (4). The manifest is its own entry.
        new("sequence-generator", "tampered decoder bytes", Dir + "DecoderOnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("sequence-generator", "truncated manifest", Dir + "Manifest", Truncate, "the manifest ends before its saved length"),
        new("sequence-generator", "unknown family", Dir + "Manifest", Utf8Text("decoder-generator", "decoder-generatoX"), "the saved manifest cannot be read: The model manifest"),
        new("sequence-generator", "unknown strategy", Key, Int32At(Generator, 7), "the strategy 7 is none of Greedy, Beam, Sample"),
        new("sequence-generator", "beam width 0", Key, Int32At(Generator + 4, 0), "beam width 0 and n-best 2 do not fit the strategy Beam"),
        new("sequence-generator", "max new tokens past the positions", Key, Int32At(Generator + 44, 999), "max new tokens 999 is not in 1..64"),
        new("cvae-generator", "tampered decoder bytes", Dir + "DecoderOnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("cvae-generator", "unknown mode", Key, Int32At(1 + OnnxFields, 7), "its mode 7 is not one of Generate, Score, Classify"),
        new("cvae-generator", "latent size 0", Key, Int32At(CvaeDecoderOnly, 0), "its latent size is 0, not at least 1"),
        new("cvae-generator", "one class", Key, Int32At(CvaeDecoderOnly + 4, 1), "its class count 1 is not in [2, 1000000]"),
        new("cvae-generator", "batch size 0", Key, Int32At(CvaeDecoderOnly + 29, 0), "its batch size is 0, not at least 1"),
        new("cvae-scorer", "truncated encoder bytes", Dir + "EncoderOnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("cvae-scorer", "std 0", Key, SingleAt(CvaePair - 4, 0f), "its preprocessing Std [0] is not positive"),
        new("cvae-scorer", "batch size 0", Key, Int32At(CvaePair + 29, 0), "its batch size is 0, not at least 1"),
        new("cvae-classifier", "two priors for three classes", Key, Int32At(CvaePair + 20, 2), "it has 2 class priors for 3 classes"),
        new("cvae-classifier", "NaN prior", Key, SingleAt(CvaePair + 28, float.NaN), "log prior[1] is NaN, not a finite number"),
    };

    private const int Generator = OnnxFields + 73;

    private const int VqDecoderOnly = 2 + OnnxFields + (7 * 4) + (2 * 4);

    // The CVAE's v1 Model.key: has-encoder (1 byte), each graph's OnnxModel fields, mode (4), 16 string ids (9 columns, 7 tensors),
    // with an encoder the preprocessing, then latent size, class count (4 each), the class names' ids (4 each: 3 classes), the
    // prior count (4) and priors (4 each), seed (4), use-latent-mean (1), batch size (4).
    private const int CvaeDecoderOnly = 1 + OnnxFields + 4 + (16 * 4); // the latent size of cvae-generator
    private const int CvaePair = 1 + (2 * OnnxFields) + 4 + (16 * 4) + Preprocessing; // the latent size of cvae-scorer and -classifier
    private const int VqPair = 2 + (2 * OnnxFields) + (7 * 4) + (2 * 4);

    // The VAE's v2 Model.key: has-encoder and has-decoder (1 byte each), each graph's OnnxModel fields, 13 column string ids,
    // with an encoder 3 tensor ids and the preprocessing (width, height, channels, resize, resize size: 4 bytes each; crop: 1;
    // scale: 8; the channel count: 4; Mean, Std: 4 each for 1 channel), with a decoder 2 tensor ids, then latent size, sample
    // count, importance samples (4 each), use-latent-mean (1), seed (4), threshold (4), percentile (8), batch size (4).
    private const int VaeEncoderOnly = 2 + OnnxFields + (13 * 4) + (3 * 4); // the preprocessing of vae-encoder
    private const int VaePair = 2 + (2 * OnnxFields) + (13 * 4) + (3 * 4); // the preprocessing of vae-scorer and the detector
    private const int Preprocessing = (5 * 4) + 1 + 8 + 4 + (2 * 4);

    private static readonly Corruption[] s_v2Cases =
    {
        new("vae-encoder", "tampered encoder bytes", Dir + "EncoderOnnxModel", FlipMiddleByte, "SHA-256 does not match"),
        new("vae-encoder", "latent size not the graph's", Key, Int32At(VaeEncoderOnly + Preprocessing, 5), "its latent size 5 is not the encoder's (4)"),
        new("vae-encoder", "sample count 0", Key, Int32At(VaeEncoderOnly + Preprocessing + 4, 0), "its sample count is 0, not at least 1"),
        new("vae-encoder", "unknown resize mode", Key, Int32At(VaeEncoderOnly + 12, 7), "its preprocessing resize mode 7 is unknown"),
        new("vae-encoder", "a million channel values", Key, Int32At(VaeEncoderOnly + (5 * 4) + 1 + 8, 1_000_000), "its preprocessing has 1000000 Mean and Std values for 1 channels"),
        new("vae-decoder", "truncated decoder bytes", Dir + "DecoderOnnxModel", Truncate, "the ONNX model's bytes end before their saved length"),
        new("vae-decoder", "latent size -1", Key, Int32At(2 + OnnxFields + (13 * 4) + (2 * 4), -1), "its latent size is -1, not at least 1"),
        new("vae-decoder", "logits tensor id out of range", Key, Int32At(2 + OnnxFields + (13 * 4) + 4, 9999), "holds a value that does not decode"),
        new("vae-scorer", "batch size 0", Key, Int32At(VaePair + Preprocessing + (2 * 4) + (3 * 4) + 1 + 4 + 4 + 8, 0), "its batch size is 0, not at least 1"),
        new("vae-scorer", "std 0", Key, SingleAt(VaePair + Preprocessing - 4, 0f), "its preprocessing Std [0] is not positive"),
        new("vae-scorer", "negative importance samples", Key, Int32At(VaePair + Preprocessing + (2 * 4) + 8, -2), "its importance samples -2 are negative"),
        new("vae-anomaly-detector", "NaN threshold", Key, SingleAt(VaePair + Preprocessing + (2 * 4) + (3 * 4) + 1 + 4, float.NaN), "its anomaly threshold NaN is not a finite number"),
        new("vae-anomaly-detector", "negative percentile", Key, DoubleAt(VaePair + Preprocessing + (2 * 4) + (3 * 4) + 1 + 4 + 4, -5), "its threshold percentile -5 is not in [0, 100)"),
        new("vae-anomaly-detector", "NaN scale", Key, DoubleAt(VaePair + (5 * 4) + 1, double.NaN), "its preprocessing Scale NaN is not a positive finite number"),
    };

    public static IEnumerable<object[]> Cases => s_cases.Select(c => new object[] { c.Component, c.What });

    public static IEnumerable<object[]> V2Cases => s_v2Cases.Select(c => new object[] { c.Component, c.What });

    [Theory]
    [MemberData(nameof(Cases))]
    public void CorruptEntry_FailsTheLoad_WithAFormatExceptionNamingTheEntryAndTheProblem(string component, string what)
    {
        AssertCorruptLoadFails(s_cases.Single(c => c.Component == component && c.What == what), PersistenceTests.FixtureFolder);
    }

    [Theory]
    [MemberData(nameof(V2Cases))]
    public void CorruptV2Entry_FailsTheLoad_WithAFormatExceptionNamingTheEntryAndTheProblem(string component, string what)
        => AssertCorruptLoadFails(s_v2Cases.Single(c => c.Component == component && c.What == what), PersistenceTests.V2Folder);

    [Fact]
    public void EveryV2Component_HasCorruptionCases_AndEveryCaseChangesItsEntry()
    {
        Assert.Equal(PersistenceTests.V2Components.Select(c => (string)c[0]).Order(StringComparer.Ordinal), s_v2Cases.Select(c => c.Component).Distinct().Order(StringComparer.Ordinal));
        foreach (var c in s_v2Cases)
        {
            byte[] original = ReadEntry(Path.Combine(PersistenceTests.V2Folder, c.Component + ".zip"), c.Entry);
            Assert.False(original.AsSpan().SequenceEqual(c.Edit(original.ToArray())), $"{c.Component}: {c.What} leaves {c.Entry} as it was");
        }
    }

    private static void AssertCorruptLoadFails(Corruption corruption, string folder)
    {
        string component = corruption.Component;
        using var temp = TestModels.TempFolder();
        string zip = temp.File(component + ".zip");
        File.Copy(Path.Combine(corruption.Version == "v1" ? folder : PersistenceTests.Folder(corruption.Version), component + ".zip"), zip);
        Rewrite(zip, corruption.Entry, corruption.Edit);

        var e = Record.Exception(() => PersistenceTests.DisposeModel(new MLContext().Model.Load(zip, out _)));
        while (e is TargetInvocationException { InnerException: { } inner })
        {
            e = inner;
        }

        var format = Assert.IsType<FormatException>(e);
        Assert.StartsWith($"The model zip entry '{corruption.Entry}' is corrupt: ", format.Message, StringComparison.Ordinal);
        Assert.True(format.Message.Contains(corruption.Problem, StringComparison.Ordinal), $"'{corruption.Problem}' is not in: {format.Message}");
    }

    [Fact]
    public void EveryComponent_HasCorruptionCases_AndEveryCaseChangesItsEntry()
    {
        Assert.Equal(FixtureModels.All.Select(c => c.Name).Order(StringComparer.Ordinal), s_cases.Select(c => c.Component).Distinct().Order(StringComparer.Ordinal));
        foreach (var c in s_cases)
        {
            byte[] original = ReadEntry(Path.Combine(PersistenceTests.Folder(c.Version), c.Component + ".zip"), c.Entry);
            Assert.False(original.AsSpan().SequenceEqual(c.Edit(original.ToArray())), $"{c.Component}: {c.What} leaves {c.Entry} as it was");
        }
    }

    private static byte[] FlipMiddleByte(byte[] bytes)
    {
        bytes[bytes.Length / 2] ^= 0x5A;
        return bytes;
    }

    private static byte[] Truncate(byte[] bytes) => bytes.Take(bytes.Length / 2).ToArray();

    private static Func<byte[], byte[]> Int32At(int offset, int value) => bytes =>
    {
        BitConverter.GetBytes(value).CopyTo(bytes, Header + offset);
        return bytes;
    };

    private static Func<byte[], byte[]> SingleAt(int offset, float value) => bytes =>
    {
        BitConverter.GetBytes(value).CopyTo(bytes, Header + offset);
        return bytes;
    };

    private static Func<byte[], byte[]> DoubleAt(int offset, double value) => bytes =>
    {
        BitConverter.GetBytes(value).CopyTo(bytes, Header + offset);
        return bytes;
    };

    private static Func<byte[], byte[]> CopyInt32(int from, int to) => bytes =>
    {
        Array.Copy(bytes, Header + from, bytes, Header + to, 4);
        return bytes;
    };

    /// <summary>Replaces the one occurrence of <paramref name="find"/> in a UTF-16 string of Model.key by text of the same length.</summary>
    private static Func<byte[], byte[]> Text(string find, string replacement) => Replace(Encoding.Unicode, find, replacement);

    private static Func<byte[], byte[]> Utf8Text(string find, string replacement) => Replace(Encoding.UTF8, find, replacement);

    private static Func<byte[], byte[]> Replace(Encoding encoding, string find, string replacement) => bytes =>
    {
        Assert.Equal(find.Length, replacement.Length);
        byte[] pattern = encoding.GetBytes(find);
        int at = bytes.AsSpan().IndexOf(pattern);
        Assert.True(at >= 0, $"'{find}' is not in the entry");
        Assert.True(bytes.AsSpan(at + 1).IndexOf(pattern) < 0, $"'{find}' is in the entry more than once");
        encoding.GetBytes(replacement).CopyTo(bytes, at);
        return bytes;
    };

    private static byte[] ReadEntry(string zip, string entry)
    {
        using var archive = ZipFile.OpenRead(zip);
        using var stream = archive.GetEntry(entry)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static void Rewrite(string zip, string entry, Func<byte[], byte[]> edit)
    {
        byte[] content = edit(ReadEntry(zip, entry));
        using var archive = ZipFile.Open(zip, ZipArchiveMode.Update);
        archive.GetEntry(entry)!.Delete();
        using var output = archive.CreateEntry(entry).Open();
        output.Write(content);
    }

    private sealed record Corruption(string Component, string What, string Entry, Func<byte[], byte[]> Edit, string Problem, string Version = "v1");
}
