using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Inspect;
using MlNotes.Transforms.Text;
using MlNotes.Transforms.Vision;
using Xunit;

namespace MlNotes.Transforms.Tests.Inspect;

/// <summary>
/// <c>InspectOnnx</c> on the committed graphs of every family: the guessed family and roles, the opsets and the fixed batch, what is
/// not decided, and the written manifest read by the real transform with the committed manifest's outputs once the undecided fields
/// are set (and refused before).
/// </summary>
public sealed class OnnxModelInspectorTests
{
    private static string Graph(string path) => path.StartsWith("models-onnx/", StringComparison.Ordinal)
        ? Path.Combine(RepoPaths.Root, path)
        : TestModels.Path(path);

    [Theory]
    [InlineData("models-onnx/resnet-fashion.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits embedding=embedding")]
    [InlineData("models-onnx/vit-fashion.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits embedding=embedding")]
    [InlineData("models-onnx/clip-fashion-image.onnx", OnnxModelFamily.ClipImage, "image=image image_embeds=embedding")]
    [InlineData("models-onnx/clip-fashion-text.onnx", OnnxModelFamily.ClipText, "input_ids=input_ids attention_mask=attention_mask text_embeds=embedding")]
    [InlineData("models-onnx/text-fortunes.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids attention_mask=attention_mask last_hidden_state=last_hidden_state pooled=pooled logits=logits")]
    [InlineData("models-onnx/vae-fashion-encoder.onnx", OnnxModelFamily.VaeEncoder, "image=image mean=mean logvar=logvar")]
    [InlineData("models-onnx/vae-fashion-decoder.onnx", OnnxModelFamily.VaeDecoder, "z=z logits=logits")]
    [InlineData("models-onnx/vae-fashion-background-encoder.onnx", OnnxModelFamily.VaeEncoder, "image=image mean=mean logvar=logvar")]
    [InlineData("models-onnx/vae-fashion-background-decoder.onnx", OnnxModelFamily.VaeDecoder, "z=z logits=logits")]
    [InlineData("models-onnx/vqvae-fashion-encoder.onnx", OnnxModelFamily.VqVaeEncoder, "image=image latents=latents")]
    [InlineData("models-onnx/vqvae-fashion-decoder.onnx", OnnxModelFamily.VqVaeDecoder, "codes=codes reconstruction=reconstruction")]
    [InlineData("models-onnx/g2p-cmudict-encoder.onnx", OnnxModelFamily.Seq2SeqEncoder, "input_ids=input_ids attention_mask=attention_mask encoder_hidden_states=encoder_hidden_states cross_key_0=cross_key_values cross_value_2=cross_key_values")]
    [InlineData("models-onnx/g2p-cmudict-decoder.onnx", OnnxModelFamily.Seq2SeqDecoder,
        "input_ids=input_ids position_ids=position_ids attention_mask=attention_mask encoder_attention_mask=encoder_attention_mask cross_key_0=cross_key_values cross_value_2=cross_key_values past_key_0=past_key_values past_value_2=past_key_values logits=logits key_0=present_key_values value_2=present_key_values")]
    [InlineData("models-onnx/g2p-cmudict-v1-encoder.onnx", OnnxModelFamily.Seq2SeqEncoder, "input_ids=input_ids attention_mask=attention_mask encoder_hidden_states=encoder_hidden_states")]
    [InlineData("models-onnx/g2p-cmudict-v1-decoder.onnx", OnnxModelFamily.Seq2SeqDecoder,
        "input_ids=input_ids position_ids=position_ids attention_mask=attention_mask encoder_hidden_states=encoder_hidden_states encoder_attention_mask=encoder_attention_mask past_key_0=past_key_values past_value_2=past_key_values logits=logits key_0=present_key_values value_2=present_key_values")]
    [InlineData("foreign/resnet50_slim.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits features=embedding")]
    [InlineData("foreign/vit_b_16_slim.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits tokens=embedding")]
    [InlineData("foreign/convnext_tiny_slim.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits")]
    [InlineData("foreign/efficientnet_b0_slim.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits")]
    [InlineData("foreign/mobilenet_v3_small_slim.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits")]
    [InlineData("foreign/zoo_nhwc_bgr.onnx", OnnxModelFamily.ImageClassifier, "data=image prob=logits")]
    [InlineData("foreign/fixed_batch1.onnx", OnnxModelFamily.ImageClassifier, "data=image prob=logits")]
    [InlineData("foreign/fixed_batch3.onnx", OnnxModelFamily.ImageClassifier, "data=image prob=logits")]
    [InlineData("vision/user_classifier.onnx", OnnxModelFamily.ImageClassifier, "input=image output=logits")]
    [InlineData("vit_small.onnx", OnnxModelFamily.ImageClassifier, "image=image logits=logits embedding=embedding")]
    [InlineData("text/bert_like.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids attention_mask=attention_mask token_type_ids=token_type_ids last_hidden_state=last_hidden_state")]
    [InlineData("text/bert_i32_f16.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids token_type_ids=token_type_ids last_hidden_state=last_hidden_state")]
    [InlineData("text/bert_pooled.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids last_hidden_state=last_hidden_state pooled=pooled")]
    [InlineData("text/spm_encoder.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids attention_mask=attention_mask last_hidden_state=last_hidden_state")]
    [InlineData("text/bbpe_encoder.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids attention_mask=attention_mask last_hidden_state=last_hidden_state")]
    [InlineData("varlen.onnx", OnnxModelFamily.TextEncoder, "input_ids=input_ids hidden=last_hidden_state pooled=pooled")]
    [InlineData("vae/tiny_vae_encoder.onnx", OnnxModelFamily.VaeEncoder, "image=image mean=mean logvar=logvar")]
    [InlineData("vae/tiny_vae_decoder.onnx", OnnxModelFamily.VaeDecoder, "z=z logits=logits")]
    [InlineData("mlp.onnx", OnnxModelFamily.Unknown, "x=- y=-")]
    [InlineData("multi_io.onnx", OnnxModelFamily.Unknown, "a=- m=- f=-")]
    [InlineData("tower_motion.onnx", OnnxModelFamily.Unknown, "features=-")]
    public void Family_AndRoles_AreGuessedFromTheTensors(string path, OnnxModelFamily family, string roles)
    {
        var report = new MLContext().Model.InspectOnnx(Graph(path));

        Assert.Equal(family, report.Family);
        var tensors = report.Inputs.Concat(report.Outputs).ToDictionary(t => t.Name);
        foreach (string pair in roles.Split(' '))
        {
            string[] p = pair.Split('=');
            Assert.Equal(p[1] == "-" ? null : p[1], tensors[p[0]].Role);
        }
    }

    // Signatures of exports not committed here (Hugging Face Optimum's names): the guess from names, types and shapes alone.
    [Theory]
    [InlineData(OnnxModelFamily.DecoderOnlyLanguageModel, "in input_ids int64 -1,-1; in attention_mask int64 -1,-1; in past_key_values.0.key float32 -1,12,-1,64; out logits float32 -1,-1,50257; out present.0.key float32 -1,12,-1,64")]
    [InlineData(OnnxModelFamily.DecoderOnlyLanguageModel, "in input_ids int64 -1,-1; out logits float32 -1,-1,50257")]
    [InlineData(OnnxModelFamily.Seq2SeqDecoder, "in input_ids int64 -1,-1; in encoder_hidden_states float32 -1,-1,512; in past_key_values.0.decoder.key float32 -1,8,-1,64; out logits float32 -1,-1,32128; out present.0.decoder.key float32 -1,8,-1,64")]
    [InlineData(OnnxModelFamily.ClipDual, "in input_ids int64 -1,-1; in pixel_values float32 -1,3,224,224; in attention_mask int64 -1,-1; out logits_per_image float32 -1,-1; out text_embeds float32 -1,512; out image_embeds float32 -1,512")]
    [InlineData(OnnxModelFamily.ImageEncoder, "in pixel_values float32 -1,-1,-1,-1; out last_hidden_state float32 -1,-1,768; out pooler_output float32 -1,768")]
    [InlineData(OnnxModelFamily.TextEncoder, "in input_ids int64 -1,-1; in attention_mask int64 -1,-1; out sentence_embedding float32 -1,384")]
    public void Family_IsGuessedForTheCommonExportSignatures(OnnxModelFamily family, string signature)
    {
        var inputs = new List<OnnxTensorReport>();
        var outputs = new List<OnnxTensorReport>();
        foreach (string tensor in signature.Split("; "))
        {
            string[] f = tensor.Split(' ');
            int[] dims = f[3].Split(',').Select(int.Parse).ToArray();
            bool input = f[0] == "in";
            string? role = input ? TensorRoles.Input(f[1], f[2], dims) : TensorRoles.Output(f[1], f[2], dims);
            (input ? inputs : outputs).Add(new OnnxTensorReport(f[1], f[2], dims, dims.Select(_ => "").ToArray(), role));
        }

        Assert.Equal(family, OnnxModelInspector.Guess(inputs, outputs).Item1);
    }

    [Fact]
    public void Report_GivesTypesDimensionsOpsetsProducer_AndCallsOutAFixedBatch()
    {
        var ml = new MLContext();
        var text = ml.Model.InspectOnnx(Graph("models-onnx/text-fortunes.onnx"));
        var fixedBatch = ml.Model.InspectOnnx(Graph("foreign/fixed_batch1.onnx"));

        var ids = text.Inputs.Single(t => t.Name == "input_ids");
        Assert.Equal("int64", ids.ElementType);
        Assert.Equal(new[] { -1, -1 }, ids.Dimensions);
        Assert.Equal(new[] { "batch", "sequence" }, ids.SymbolicDimensions);
        Assert.Equal(new[] { -1, -1, 64 }, text.Outputs.Single(t => t.Name == "last_hidden_state").Dimensions);
        Assert.Equal(17, text.Opsets[""]);
        Assert.Equal(8, text.IrVersion);
        Assert.StartsWith("MlNotes models-onnx", text.ProducerName, StringComparison.Ordinal);
        Assert.Null(text.FixedBatchSize);
        Assert.Equal(1, fixedBatch.FixedBatchSize);
        Assert.Contains("Batch axis: FIXED at 1", fixedBatch.ToString(), StringComparison.Ordinal);
        Assert.Contains("data: float32 [1, 64, 64, 3]  role image", fixedBatch.ToString(), StringComparison.Ordinal);
        Assert.Contains(fixedBatch.Decided, d => d.Contains("NHWC", StringComparison.Ordinal));
    }

    [Fact]
    public void NotDecided_NamesEachFieldAndItsOption()
    {
        var ml = new MLContext();
        var rgb = ml.Model.InspectOnnx(Graph("foreign/vit_b_16_slim.onnx"));
        var grey = ml.Model.InspectOnnx(Graph("models-onnx/resnet-fashion.onnx"));
        var text = ml.Model.InspectOnnx(Graph("text/bert_like.onnx"));

        foreach (string item in new[] { "preprocessing.color", "preprocessing.range", "preprocessing.mean", "preprocessing.std", "preprocessing.resize", "preprocessing.interpolation", "pooling.kind", "labels" })
        {
            Assert.Contains(rgb.NotDecided, n => n.StartsWith(item + ":", StringComparison.Ordinal));
        }

        Assert.Contains(rgb.NotDecided, n => n.Contains("TokenPooling in Options", StringComparison.Ordinal));
        Assert.DoesNotContain(grey.NotDecided, n => n.StartsWith("preprocessing.color", StringComparison.Ordinal));
        Assert.Contains(grey.Decided, d => d.Contains("grey", StringComparison.Ordinal));
        foreach (string item in new[] { "tokenizer.vocab_file", "tokenizer.lower_case", "pooling.kind" })
        {
            Assert.Contains(text.NotDecided, n => n.StartsWith(item + ":", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void WrittenClassifierManifest_IsRefusedUntilDecided_ThenScoresAsTheCommittedOne()
    {
        var ml = new MLContext();
        using var temp = TestModels.TempFolder();
        string written = temp.File("resnet.json");
        ml.Model.InspectOnnx(RepoPaths.Model("resnet-fashion.onnx")).WriteManifest(written);
        var images = FashionImages(ml);
        OnnxImageClassifierEstimator.Options Options(string manifest) => new() { ModelFile = RepoPaths.Model("resnet-fashion.onnx"), ManifestFile = manifest, EmbeddingColumnName = "Embedding" };

        var refused = Assert.Throws<NotSupportedException>(() => ml.Transforms.ClassifyImageOnnx(Options(written)).Fit(images));
        Assert.Contains($"'{written}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'preprocessing.range' not decided", refused.Message, StringComparison.Ordinal);
        Assert.Contains("PixelRange in ClassifyImageOnnx's Options", refused.Message, StringComparison.Ordinal);

        var byOptions = Options(written);
        (byOptions.PixelRange, byOptions.Mean, byOptions.Std, byOptions.Resize, byOptions.Interpolation) = (PixelRange.ZeroToOne, new[] { 0.286f }, new[] { 0.353f }, ResizeKind.None, ResizeInterpolation.Bilinear);
        var expected = Score(ml.Transforms.ClassifyImageOnnx(Options(RepoPaths.Model("resnet-fashion.json"))), images);
        Assert.Equal(expected, Score(ml.Transforms.ClassifyImageOnnx(byOptions), images));

        // Set in the manifest instead, as a user edits it: decided, so read without options.
        var json = JsonNode.Parse(File.ReadAllText(written))!;
        var p = json["preprocessing"]!;
        (p["range"], p["mean"], p["std"], p["resize"], p["interpolation"]) = ("0-1", new JsonArray(0.286), new JsonArray(0.353), "none", "bilinear");
        File.WriteAllText(written, json.ToJsonString());
        Assert.Equal(expected, Score(ml.Transforms.ClassifyImageOnnx(Options(written)), images));
    }

    [Fact]
    public void WrittenImageEncoderManifest_ScoresAsTheCommittedOne_AndAForcedFamilyIsWritten()
    {
        var ml = new MLContext();
        using var temp = TestModels.TempFolder();
        string clip = temp.File("clip-image.json"), encoder = temp.File("encoder.json");
        ml.Model.InspectOnnx(RepoPaths.Model("clip-fashion-image.onnx")).WriteManifest(clip);
        var forced = ml.Model.InspectOnnx(RepoPaths.Model("vit-fashion.onnx"), OnnxModelFamily.ImageEncoder);
        forced.WriteManifest(encoder);
        var images = FashionImages(ml);
        OnnxImageEncoderEstimator.Options Options(string model, string manifest, bool decide) => new()
        {
            ModelFile = RepoPaths.Model(model), ManifestFile = manifest,
            PixelRange = decide ? PixelRange.ZeroToOne : null, Mean = decide ? new[] { 0.286f } : null, Std = decide ? new[] { 0.353f } : null,
            Resize = decide ? ResizeKind.None : null, Interpolation = decide ? ResizeInterpolation.Bilinear : null,
        };

        Assert.Equal(OnnxModelFamily.ImageEncoder, forced.Family);
        Assert.StartsWith("given (the guess was ImageClassifier", forced.FamilyReason, StringComparison.Ordinal);
        Assert.Equal("clip-image", JsonNode.Parse(File.ReadAllText(clip))!["family"]!.GetValue<string>());
        Assert.Null(JsonNode.Parse(File.ReadAllText(encoder))!["family"]);
        Assert.Equal(Embed(ml.Transforms.EncodeClipImage(Options("clip-fashion-image.onnx", RepoPaths.Model("clip-fashion-image.json"), false)), images),
            Embed(ml.Transforms.EncodeClipImage(Options("clip-fashion-image.onnx", clip, true)), images));
        Assert.Equal("embedding", JsonNode.Parse(File.ReadAllText(encoder))!["roles"]!["embedding"]!.GetValue<string>());
    }

    [Fact]
    public void WrittenTextManifest_IsRefusedUntilDecided_ThenEncodesAsTheCommittedOne()
    {
        var ml = new MLContext();
        using var temp = TestModels.TempFolder();
        string written = temp.File("text.json");
        var report = ml.Model.InspectOnnx(RepoPaths.Model("text-fortunes.onnx"));
        report.WriteManifest(written);
        var texts = ml.Data.LoadFromEnumerable(new[] { "A fortune is a short saying.", "Ünïcödé and C++ too", "" }.Select(t => new MlNotes.Transforms.Tests.Text.ForeignTokenizerTests.TextRow { Text = t }));
        OnnxTextEncoderEstimator.Options Options(string manifest) => new() { ModelFile = RepoPaths.Model("text-fortunes.onnx"), ManifestFile = manifest };

        Assert.Contains(report.Decided, d => d == "pooling: in the graph, output 'pooled'");
        var refused = Assert.Throws<NotSupportedException>(() => ml.Transforms.EncodeTextOnnx(Options(written)).Fit(texts));
        Assert.Contains("'tokenizer.vocab_file' not decided", refused.Message, StringComparison.Ordinal);
        Assert.Contains("VocabFile in EncodeTextOnnx's Options", refused.Message, StringComparison.Ordinal);

        var decided = Options(written);
        (decided.VocabFile, decided.LowerCase, decided.MaxLength) = (RepoPaths.Model("text-fortunes.vocab.txt"), true, 128);
        var expected = Encode(ml.Transforms.EncodeTextOnnx(Options(RepoPaths.Model("text-fortunes.json"))), texts);
        var actual = Encode(ml.Transforms.EncodeTextOnnx(decided), texts);
        Assert.Equal(expected.Embeddings, actual.Embeddings);
        Assert.Equal(expected.Scores, actual.Scores);
    }

    [Fact]
    public void AModelFolder_DecidesTheTokenizerAndPooling_AndItsManifestEncodesAsTheFolder()
    {
        var ml = new MLContext();
        using var temp = TestModels.TempFolder();
        string stFolder = TestModels.Path(Path.Combine("text", "st_folder"));
        foreach (string file in new[] { "vocab.txt", "tokenizer_config.json", "modules.json", Path.Combine("1_Pooling", "config.json") })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(temp.File(file))!);
            File.Copy(Path.Combine(stFolder, file), temp.File(file));
        }

        File.Copy(TestModels.Path(Path.Combine("text", "bert_like.onnx")), temp.File("model.onnx"));
        string written = temp.File("model.json");
        var report = ml.Model.InspectOnnx(temp.FullPath);
        report.WriteManifest(written);
        var texts = ml.Data.LoadFromEnumerable(new[] { "the quick brown fox", "jumps over the lazy dog" }.Select(t => new MlNotes.Transforms.Tests.Text.ForeignTokenizerTests.TextRow { Text = t }));

        Assert.Equal(OnnxModelFamily.TextEncoder, report.Family);
        Assert.Equal(temp.FullPath, report.ModelFolder);
        Assert.Contains(report.Decided, d => d.StartsWith("tokenizer: WordPiece, vocab.txt", StringComparison.Ordinal));
        Assert.Contains(report.Decided, d => d == "pooling: Cls (from the folder's modules.json)");
        Assert.Contains(report.NotDecided, n => n.StartsWith("normalize:", StringComparison.Ordinal));
        Assert.Null(JsonNode.Parse(File.ReadAllText(written))!["not_decided"]);
        var fromFolder = Encode(ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFolder = temp.FullPath }), texts);
        var fromManifest = Encode(ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFile = temp.File("model.onnx"), ManifestFile = written, Normalize = true }), texts);
        Assert.Equal(fromFolder.Embeddings, fromManifest.Embeddings);
    }

    [Fact]
    public void WrittenVaeDecoderManifest_DecodesAsTheCommittedOne_AndAVqVaeOneIsRefusedNamingTheCodebook()
    {
        var ml = new MLContext();
        using var temp = TestModels.TempFolder();
        string vae = temp.File("vae-decoder.json"), vq = temp.File("vq-encoder.json");
        ml.Model.InspectOnnx(RepoPaths.Model("vae-fashion-decoder.onnx")).WriteManifest(vae);
        ml.Model.InspectOnnx(RepoPaths.Model("vqvae-fashion-encoder.onnx")).WriteManifest(vq);
        var random = new Random(3);
        var latents = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(_ => new Latent { Z = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray() }).ToArray());
        float[][] Decode(string manifest)
        {
            using var decoder = ml.Transforms.DecodeVae(new MlNotes.Transforms.Vae.VaeDecoderEstimator.Options { ModelFile = RepoPaths.Model("vae-fashion-decoder.onnx"), ManifestFile = manifest, InputColumnName = "Z" }).Fit(latents);
            return decoder.Transform(latents).GetColumn<VBuffer<float>>("Reconstruction").Select(v => v.DenseValues().ToArray()).ToArray();
        }

        Assert.Equal(Decode(RepoPaths.Model("vae-fashion-decoder.json")), Decode(vae));
        var refused = Assert.Throws<NotSupportedException>(() => ml.Transforms.EncodeVqVae(new MlNotes.Transforms.VqVae.VqVaeEncoderEstimator.Options { ModelFile = RepoPaths.Model("vqvae-fashion-encoder.onnx"), ManifestFile = vq }));
        Assert.Contains("'codebook' not decided", refused.Message, StringComparison.Ordinal);
        Assert.Contains("takes it from no option", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadPath_ANonOnnxFile_AndAFamilyWithoutManifest_GiveClearErrors()
    {
        var ml = new MLContext();
        using var temp = TestModels.TempFolder();
        string missing = temp.File("missing.onnx"), notOnnx = temp.File("notes.onnx");
        File.WriteAllText(notOnnx, "not a graph");

        Assert.Contains($"'{missing}'", Assert.Throws<FileNotFoundException>(() => ml.Model.InspectOnnx(missing)).Message, StringComparison.Ordinal);
        Assert.Contains($"'{notOnnx}' is not an ONNX model", Assert.Throws<InvalidDataException>(() => ml.Model.InspectOnnx(notOnnx)).Message, StringComparison.Ordinal);
        string empty = Directory.CreateDirectory(temp.File("empty")).FullName;
        Assert.Contains("has no model.onnx", Assert.Throws<FileNotFoundException>(() => ml.Model.InspectOnnx(empty)).Message, StringComparison.Ordinal);
        var seq2seq = ml.Model.InspectOnnx(RepoPaths.Model("g2p-cmudict-decoder.onnx"));
        Assert.Contains("GenerateSequenceOnnx", Assert.Throws<NotSupportedException>(() => seq2seq.WriteManifest(temp.File("g2p.json"))).Message, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("g2p.json")));
    }

    [Fact]
    public void AnEmptyNotDecidedEntry_IsRefusedWhenTheManifestIsRead()
    {
        var e = Assert.Throws<NotSupportedException>(() => MlNotes.Transforms.Manifests.ModelManifest.Parse("""{"format_version": 1, "not_decided": ["preprocessing.mean", ""]}""", "'m.json'", corruptIsFormatError: false));

        Assert.Contains("'m.json' has not_decided 'an empty entry'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCommand_PrintsWritesAndExitsWithItsCodes()
    {
        using var temp = TestModels.TempFolder();
        string manifest = temp.File("zoo.json");
        var (ok, okOut, _) = Run(TestModels.Path(Path.Combine("foreign", "zoo_nhwc_bgr.onnx")), "--write-manifest", manifest);
        var (missing, _, missingErr) = Run(temp.File("none.onnx"));
        var (usage, _, usageErr) = Run(RepoPaths.Model("resnet-fashion.onnx"), "--family", "rocket");
        var (noManifest, _, noManifestErr) = Run(RepoPaths.Model("g2p-cmudict-encoder.onnx"), "--write-manifest", temp.File("g2p.json"));
        var (forced, forcedOut, _) = Run(RepoPaths.Model("resnet-fashion.onnx"), "--family", "image-encoder");

        Assert.Equal(MlNotes.Inspect.Program.Ok, ok);
        Assert.Contains("Family: ImageClassifier", okOut, StringComparison.Ordinal);
        Assert.Contains("not decided: preprocessing.color", okOut, StringComparison.Ordinal);
        Assert.Contains($"Wrote {manifest}", okOut, StringComparison.Ordinal);
        var written = JsonNode.Parse(File.ReadAllText(manifest))!;
        Assert.Equal("HWC", written["preprocessing"]!["layout"]!.GetValue<string>());
        Assert.Contains("preprocessing.color", written["not_decided"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(MlNotes.Inspect.Program.Failed, missing);
        Assert.Contains("none.onnx' does not exist", missingErr, StringComparison.Ordinal);
        Assert.Equal(MlNotes.Inspect.Program.Usage, usage);
        Assert.Contains("rocket", usageErr, StringComparison.Ordinal);
        Assert.Equal(MlNotes.Inspect.Program.Failed, noManifest);
        Assert.Contains("No manifest is written", noManifestErr, StringComparison.Ordinal);
        Assert.Equal(MlNotes.Inspect.Program.Ok, forced);
        Assert.Contains("Family: ImageEncoder (given", forcedOut, StringComparison.Ordinal);
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = MlNotes.Inspect.Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private sealed class Latent
    {
        [VectorType(16)]
        public float[] Z { get; set; } = Array.Empty<float>();
    }

    private static IDataView FashionImages(MLContext ml)
    {
        var files = Directory.GetFiles(RepoPaths.FashionSubset, "*.png").Order(StringComparer.Ordinal).Take(6).Select(Path.GetFileName);
        var data = ml.Data.LoadFromEnumerable(files.Select(f => new Vision.FashionModelsTests.FashionImage { ImagePath = f! }));
        return ml.Transforms.LoadImages("Image", RepoPaths.FashionSubset, nameof(Vision.FashionModelsTests.FashionImage.ImagePath)).Fit(data).Transform(data);
    }

    private static float[][] Score(OnnxImageClassifierEstimator estimator, IDataView images)
    {
        using var classifier = estimator.Fit(images);
        var output = classifier.Transform(images);
        return output.GetColumn<VBuffer<float>>("Score").Concat(output.GetColumn<VBuffer<float>>("Embedding")).Select(v => v.DenseValues().ToArray()).ToArray();
    }

    private static float[][] Embed(OnnxImageEncoderEstimator estimator, IDataView images)
    {
        using var encoder = estimator.Fit(images);
        return encoder.Transform(images).GetColumn<VBuffer<float>>("ImageEmbedding").Select(v => v.DenseValues().ToArray()).ToArray();
    }

    private static (float[][] Embeddings, float[][] Scores) Encode(OnnxTextEncoderEstimator estimator, IDataView texts)
    {
        using var encoder = estimator.Fit(texts);
        var output = encoder.Transform(texts);
        float[][] Column(string name) => output.Schema.GetColumnOrNull(name) == null ? Array.Empty<float[]>()
            : output.GetColumn<VBuffer<float>>(name).Select(v => v.DenseValues().ToArray()).ToArray();
        return (Column("Embedding"), Column("Score"));
    }
}
