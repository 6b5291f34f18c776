using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Generation;
using Xunit;

namespace MlNotes.Transforms.Tests.Generation;

/// <summary>
/// The decoder-only language model of the fortunes (models-onnx/lm-fortunes, family decoder-generator) through the same
/// GenerateSequenceOnnx transform, against the PyTorch reference decodes of its fixture (fixtures/lm-fortunes.json, lm_build.py).
/// </summary>
public sealed class FortunesLmTests
{
    // Scores are sums of log-softmax over up to 60 tokens (double here, float32 logits in PyTorch and ONNX Runtime, which
    // differ by float32 rounding): the project's float32 bound 1e-4.
    private const double ScoreTolerance = 1e-4;

    private static readonly Lazy<JsonDocument> s_fixture = new(() => JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", "lm-fortunes.json")))));

    public sealed class PromptRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class IdsRow
    {
        [VectorType]
        public long[] Text { get; set; } = [];
    }

    public sealed class Ids32Row
    {
        [VectorType]
        public int[] Text { get; set; } = [];
    }

    public sealed class FloatsRow
    {
        [VectorType]
        public float[] Text { get; set; } = [];
    }

    public sealed class Generated
    {
        public string GeneratedText { get; set; } = "";

        public int[] GeneratedTokens { get; set; } = [];

        public float Score { get; set; }

        public bool Finished { get; set; }
    }

    private static string Manifest => RepoPaths.Model("lm-fortunes.json");

    private static JsonElement[] Prompts => s_fixture.Value.RootElement.GetProperty("prompts").EnumerateArray().ToArray();

    private static string[] PromptTexts => Prompts.Select(p => p.GetProperty("prompt").GetString()!).ToArray();

    [Fact]
    public void DecoderGraph_EqualsPyTorch_CachedAndUncached()
    {
        using var session = new InferenceSession(RepoPaths.Model("lm-fortunes-decoder.onnx"));
        foreach (string graph in new[] { "decoder", "decoder_uncached" })
        {
            var fx = s_fixture.Value.RootElement.GetProperty(graph);
            var inputs = fx.GetProperty("inputs").EnumerateObject().Select(p => Tensor(p.Name, p.Value)).ToList();
            string[] names = fx.GetProperty("outputs").EnumerateObject().Select(p => p.Name).ToArray();
            using var results = session.Run(inputs, names);
            foreach (var result in results)
            {
                var expected = fx.GetProperty("outputs").GetProperty(result.Name).GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                var actual = result.AsEnumerable<float>().ToArray();
                Assert.Equal(expected.Length, actual.Length);
                // float32 against PyTorch's float32: the standard's 1e-4
                Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) < 1e-4, $"{graph} {result.Name}");
            }
        }
    }

    [Fact]
    public void Greedy_OfPromptsOfDifferentLengthsInOneBatch_EqualsPyTorchOneByOne()
    {
        // The prompts are left-padded to the longest in the batch (masked, positions from each prompt's start): the same
        // tokens as PyTorch's unpadded decode of each prompt alone.
        var rows = Generate(PromptTexts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest });
        for (int i = 0; i < rows.Length; i++)
        {
            var greedy = Prompts[i].GetProperty("greedy");
            Assert.Equal(Ints(greedy.GetProperty("tokens")), rows[i].GeneratedTokens);
            Assert.Equal(greedy.GetProperty("text").GetString(), rows[i].GeneratedText);
            Assert.Equal(greedy.GetProperty("score").GetDouble(), rows[i].Score, ScoreTolerance);
            Assert.Equal(greedy.GetProperty("finished").GetBoolean(), rows[i].Finished);
        }
    }

    [Theory]
    [InlineData(0.0, "beam4_alpha0")]
    [InlineData(1.0, "beam4_alpha1")]
    public void Beam_EqualsThePyTorchReference_NBestTokensAndScores(double alpha, string key)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(PromptTexts.Select(p => new PromptRow { Text = p }));
        using var model = ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options
        {
            ManifestFile = Manifest,
            Strategy = GenerationStrategy.Beam,
            BeamWidth = 4,
            LengthPenalty = alpha,
            NBest = 4,
            BatchSize = 4,
        }).Fit(data);
        var output = model.Transform(data);
        var texts = output.GetColumn<VBuffer<ReadOnlyMemory<char>>>("NBestTexts").Select(v => v.DenseValues().Select(m => m.ToString()).ToArray()).ToArray();
        var scores = output.GetColumn<VBuffer<float>>("NBestScores").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int i = 0; i < texts.Length; i++)
        {
            var expected = Prompts[i].GetProperty(key).EnumerateArray().ToArray();
            Assert.Equal(expected.Select(h => h.GetProperty("text").GetString()), texts[i].Take(expected.Length));
            for (int h = 0; h < expected.Length; h++)
            {
                Assert.Equal(expected[h].GetProperty("score").GetDouble(), scores[i][h], ScoreTolerance);
            }
        }
    }

    [Theory]
    [InlineData(GenerationStrategy.Greedy)]
    [InlineData(GenerationStrategy.Beam)]
    public void CachedDecode_EqualsTheUncachedOne(GenerationStrategy strategy)
    {
        var cached = Generate(PromptTexts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, Strategy = strategy, MaxNewTokens = 20 });
        var uncached = Generate(PromptTexts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, Strategy = strategy, MaxNewTokens = 20, UseCache = false });
        for (int i = 0; i < cached.Length; i++)
        {
            Assert.Equal(cached[i].GeneratedTokens, uncached[i].GeneratedTokens);
            // the same graph on the same tokens, over the cache or recomputed (cached_vs_uncached_logit_gap in the fixture
            // is under 1e-6): 1e-5 on the summed scores
            Assert.Equal(cached[i].Score, uncached[i].Score, 1e-5);
        }
    }

    [Fact]
    public void TokenIdColumns_Int64AndInt32_GiveWhatTheTextGives_AndBadIdsAreRefused()
    {
        var fromText = Generate(PromptTexts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, MaxNewTokens = 10 });
        var ids = Prompts.Select(p => Ints(p.GetProperty("prompt_ids")).Skip(1).ToArray()).ToArray(); // without <s>: the transform adds it
        var ml = new MLContext(seed: 1);
        var options = new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, MaxNewTokens = 10 };
        var longs = ml.Data.LoadFromEnumerable(ids.Select(x => new IdsRow { Text = x.Select(i => (long)i).ToArray() }));
        using var model = ml.Transforms.GenerateSequenceOnnx(options).Fit(longs);
        var fromLongs = ml.Data.CreateEnumerable<Generated>(model.Transform(longs), reuseRowObject: false).ToArray();
        var ints = ml.Data.LoadFromEnumerable(ids.Select(x => new Ids32Row { Text = x }));
        var fromInts = ml.Data.CreateEnumerable<Generated>(model.Transform(ints), reuseRowObject: false).ToArray();
        Assert.Equal(fromText.Select(r => r.GeneratedText), fromLongs.Select(r => r.GeneratedText));
        Assert.Equal(fromText.Select(r => r.GeneratedText), fromInts.Select(r => r.GeneratedText));

        var bad = ml.Data.LoadFromEnumerable(new[] { new IdsRow { Text = [40, 41] }, new IdsRow { Text = [40, 2, 41] } });
        var refused = Assert.Throws<InvalidOperationException>(() => ml.Data.CreateEnumerable<Generated>(model.Transform(bad), reuseRowObject: false).ToArray());
        Assert.Contains("column 'Text' at row 1 have 2 at index 1", refused.Message);
        var tooLong = ml.Data.LoadFromEnumerable(new[] { new IdsRow { Text = Enumerable.Repeat(40L, 64).ToArray() } });
        var cut = Assert.Throws<InvalidOperationException>(() => ml.Data.CreateEnumerable<Generated>(model.Transform(tooLong), reuseRowObject: false).ToArray());
        Assert.Contains("row 0 has 64 token ids: the model reads at most 63", cut.Message);
        var floats = ml.Data.LoadFromEnumerable(new[] { new FloatsRow { Text = [1f] } });
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(floats));
    }

    [Fact]
    public void Sampling_IsReproduciblePerRow_WhateverTheBatching()
    {
        string[] prompts = [.. PromptTexts, "Why ", "Love is "];
        var a = Generate(prompts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, Strategy = GenerationStrategy.Sample, Seed = 7, TopK = 20, TopP = 0.9f, BatchSize = 64 });
        var b = Generate(prompts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, Strategy = GenerationStrategy.Sample, Seed = 7, TopK = 20, TopP = 0.9f, BatchSize = 3 });
        var c = Generate(prompts, new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, Strategy = GenerationStrategy.Sample, Seed = 8, TopK = 20, TopP = 0.9f });
        Assert.Equal(a.Select(r => r.GeneratedText), b.Select(r => r.GeneratedText));
        Assert.NotEqual(a.Select(r => r.GeneratedText), c.Select(r => r.GeneratedText));
    }

    [Fact]
    public void DecoderOnlyManifest_RefusesAnEncoder_AndItsLimitsAreChecked()
    {
        var ml = new MLContext();
        var encoder = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, EncoderModelFile = RepoPaths.Model("g2p-cmudict-encoder.onnx") }));
        Assert.Contains("decoder-generator", encoder.Message);
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options { ManifestFile = Manifest, MaxNewTokens = 65 }));
        Assert.Contains("MaxNewTokens must be 1 to 64 (the manifest's target.max_length - source.max_length", tooMany.Message);

        string folder = Path.Combine(Path.GetTempPath(), "mlnotes-lm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string text = File.ReadAllText(Manifest);
            string withEncoder = Path.Combine(folder, "with-encoder.json");
            File.WriteAllText(withEncoder, text.Replace("\"decoder\": {", "\"encoder\": {\"model_file\": \"x.onnx\"},\n \"decoder\": {", StringComparison.Ordinal));
            var refused = Assert.Throws<NotSupportedException>(() => ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options { ManifestFile = withEncoder }));
            Assert.Contains("'encoder'", refused.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void SaveLoad_AndPredictionEngine_GiveTheTransformsOutputs()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(PromptTexts.Select(p => new PromptRow { Text = p }));
        using var model = ml.Transforms.GenerateSequenceOnnx(Manifest, strategy: GenerationStrategy.Greedy).Fit(data);
        var expected = ml.Data.CreateEnumerable<Generated>(model.Transform(data), reuseRowObject: false).ToArray();
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext(seed: 5);
        var loaded = fresh.Model.Load(stream, out _);
        using var engine = fresh.Model.CreatePredictionEngine<PromptRow, Generated>(loaded);
        for (int i = 0; i < expected.Length; i++)
        {
            var one = engine.Predict(new PromptRow { Text = PromptTexts[i] });
            Assert.Equal(expected[i].GeneratedText, one.GeneratedText);
            Assert.Equal(expected[i].Score, one.Score, 1e-4);
        }

        (loaded as IDisposable)?.Dispose();
    }

    private static Generated[] Generate(IEnumerable<string> prompts, SequenceGeneratorEstimator.Options options)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(prompts.Select(p => new PromptRow { Text = p }));
        using var model = ml.Transforms.GenerateSequenceOnnx(options).Fit(data);
        return ml.Data.CreateEnumerable<Generated>(model.Transform(data), reuseRowObject: false).ToArray();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static NamedOnnxValue Tensor(string name, JsonElement t)
    {
        int[] shape = t.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var data = t.GetProperty("data");
        return t.GetProperty("dtype").GetString() == "int64"
            ? NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(data.EnumerateArray().Select(x => x.GetInt64()).ToArray(), shape))
            : NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(data.EnumerateArray().Select(x => x.GetSingle()).ToArray(), shape));
    }
}
