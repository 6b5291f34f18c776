using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Generation;

namespace MlNotes.Samples.Generation;

/// <summary>What the g2p scenario measured: WER and PER on the test words it decoded (greedy and beam), and the n-best it printed.</summary>
public sealed record G2pScenarioResult(int TestWords, int BeamWords, double GreedyWer, double GreedyPer, double BeamWer, double BeamPer, IReadOnlyList<(string Word, string[] Phones, float[] Scores)> MadeUp, IReadOnlyList<(string Settings, string Prompt, string Continuation)> Continuations, IReadOnlyList<string> Table);

/// <summary>
/// Sequence generation with GenerateSequenceOnnx: the G2P Transformer (models-onnx/g2p-cmudict) pronounces the test words it
/// never saw and a few made-up ones (beam n-best with scores), with the WER/PER table next to Festival's letter-to-sound
/// rules on the same words; then the decoder-only fortunes LM (models-onnx/lm-fortunes) continues a few prompts, greedy,
/// beam and sampled.
/// </summary>
public static class G2pScenario
{
    private static readonly string[] s_madeUp = ["blorfication", "zyxt", "mlnotes", "quorple", "transformerize"];

    public static G2pScenarioResult Run(SampleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var log = context.Log;
        var test = ReadSplit(Path.Combine(context.ModelsOnnx, "data", "g2p", "test.tsv.gz"));
        int greedyCount = context.Quick ? 200 : test.Count, beamCount = context.Quick ? 40 : 1000;
        var ml = new MLContext(seed: 1);
        string manifest = context.Model("g2p-cmudict.json");
        var words = ml.Data.LoadFromEnumerable(test.Take(greedyCount).Select(t => new TextRow { Text = t.Word }));
        string[] greedy, beam;
        using (var model = ml.Transforms.GenerateSequenceOnnx(manifest).Fit(words))
        {
            greedy = model.Transform(words).GetColumn<ReadOnlyMemory<char>>("GeneratedText").Select(m => m.ToString()).ToArray();
        }

        var beamWords = ml.Data.LoadFromEnumerable(test.Take(beamCount).Select(t => new TextRow { Text = t.Word }));
        var madeUpRows = ml.Data.LoadFromEnumerable(s_madeUp.Select(w => new TextRow { Text = w }));
        var madeUp = new List<(string, string[], float[])>();
        using (var model = ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options { ManifestFile = manifest, Strategy = GenerationStrategy.Beam, BeamWidth = 4, NBest = 3 }).Fit(beamWords))
        {
            beam = model.Transform(beamWords).GetColumn<ReadOnlyMemory<char>>("GeneratedText").Select(m => m.ToString()).ToArray();
            var nbest = model.Transform(madeUpRows);
            // Each row's values are copied out as it is read: the cursor reuses its VBuffers' arrays from row to row.
            var texts = nbest.GetColumn<VBuffer<ReadOnlyMemory<char>>>("NBestTexts").Select(v => v.DenseValues().Select(m => m.ToString()).ToArray()).ToArray();
            var scores = nbest.GetColumn<VBuffer<float>>("NBestScores").Select(v => v.DenseValues().ToArray()).ToArray();
            log("Made-up words, beam search (width 4), the 3 best pronunciations with their log-probabilities:");
            for (int i = 0; i < s_madeUp.Length; i++)
            {
                var phones = texts[i];
                var s = scores[i];
                madeUp.Add((s_madeUp[i], phones, s));
                log($"  {s_madeUp[i],-16} " + string.Join("   ", phones.Select((p, k) => string.Create(CultureInfo.InvariantCulture, $"{p} ({s[k]:F2})"))));
            }
        }

        log("Test words it never saw (greedy; * marks a miss without stress):");
        foreach (int i in new[] { 0, 1, 2, 3, 4, 5, 6, 7 }.Where(i => i < greedyCount))
        {
            var (word, refs) = test[i];
            bool right = refs.Any(r => Distance(Strip(Split(greedy[i])), Strip(r)) == 0);
            log($"  {(right ? " " : "*")} {word,-14} {greedy[i],-28} reference: {string.Join(" | ", refs.Select(r => string.Join(' ', r)))}");
        }

        var refsGreedy = test.Take(greedyCount).Select(t => t.Refs).ToArray();
        var refsBeam = test.Take(beamCount).Select(t => t.Refs).ToArray();
        var (gw, gp) = Score(greedy, refsGreedy, stress: false);
        var (gws, gps) = Score(greedy, refsGreedy, stress: true);
        var (bw, bp) = Score(beam, refsBeam, stress: false);
        var (bws, bps) = Score(beam, refsBeam, stress: true);
        using var metrics = JsonDocument.Parse(File.ReadAllText(context.Model("metrics.json")));
        var festival = metrics.RootElement.GetProperty("g2p_festival_lts");
        var table = new List<string>
        {
            "Word and phone error rates on the test split (words held out by a fixed rule on their spelling):",
            $"  {"system",-44} {"words",6} {"WER",7} {"PER",7} {"WER±str",8} {"PER±str",8}",
            Row("this Transformer, greedy (here)", greedyCount, gw, gp, gws, gps),
            Row("this Transformer, beam 4 (here)", beamCount, bw, bp, bws, bps),
            Row("Festival's CMU letter-to-sound rules", festival.GetProperty("test_words").GetInt32(), Get(festival, "no_stress", "wer"), Get(festival, "no_stress", "per"), Get(festival, "stress", "wer"), Get(festival, "stress", "per")),
        };
        table.ForEach(log);
        log("  published, CMUdict without stress (another dictionary version): encoder-decoder LSTMs and Transformers 22-25 % WER,");
        log("  5-6 % PER; joint-sequence models about 24 % WER. ±str: with stress digits on the vowels. (Festival's rules were");
        log("  trained on the whole dictionary, these test words included.)");

        var continuations = Continue(context, ml);
        return new G2pScenarioResult(greedyCount, beamCount, gw, gp, bw, bp, madeUp, continuations, table);
    }

    private static List<(string, string, string)> Continue(SampleContext context, MLContext ml)
    {
        var log = context.Log;
        string manifest = context.Model("lm-fortunes.json");
        string[] prompts = ["The computer ", "Love is ", "Never "];
        var data = ml.Data.LoadFromEnumerable(prompts.Select(p => new TextRow { Text = p }));
        var settings = new (string Name, SequenceGeneratorEstimator.Options Options)[]
        {
            ("greedy", new() { ManifestFile = manifest }),
            ("beam 4, length penalty 1", new() { ManifestFile = manifest, Strategy = GenerationStrategy.Beam, BeamWidth = 4, LengthPenalty = 1 }),
            ("sampling T 0.8, top-k 20, seed 1", new() { ManifestFile = manifest, Strategy = GenerationStrategy.Sample, Temperature = 0.8f, TopK = 20, Seed = 1 }),
            ("sampling T 1, top-p 0.9, seed 2", new() { ManifestFile = manifest, Strategy = GenerationStrategy.Sample, TopP = 0.9f, Seed = 2 }),
        };
        log("The fortunes LM (decoder-only, characters; the same transform) continues prompts, up to 60 characters:");
        var result = new List<(string, string, string)>();
        foreach (var (name, options) in settings)
        {
            using var model = ml.Transforms.GenerateSequenceOnnx(options).Fit(data);
            var texts = model.Transform(data).GetColumn<ReadOnlyMemory<char>>("GeneratedText").Select(m => m.ToString()).ToArray();
            log($"  {name}:");
            for (int i = 0; i < prompts.Length; i++)
            {
                result.Add((name, prompts[i], texts[i]));
                log($"    \"{prompts[i]}\" -> \"{texts[i]}\"");
            }
        }

        return result;
    }

    private static string Row(string name, int words, double wer, double per, double werStress, double perStress)
        => string.Create(CultureInfo.InvariantCulture, $"  {name,-44} {words,6} {wer,7:P1} {per,7:P1} {werStress,8:P1} {perStress,8:P1}");

    private static double Get(JsonElement e, string block, string key) => e.GetProperty(block).GetProperty(key).GetDouble();

    /// <summary>g2p_data.wer_per: a word is right when it equals one of its references; PER against the closest reference.</summary>
    public static (double Wer, double Per) Score(IReadOnlyList<string> predictions, IReadOnlyList<string[][]> references, bool stress)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(references);
        int wrong = 0;
        long distance = 0, length = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            var prediction = stress ? Split(predictions[i]) : Strip(Split(predictions[i]));
            var best = references[i].Select(r => stress ? r : Strip(r)).Select(r => (Distance(prediction, r), r.Length)).OrderBy(t => t.Item1).ThenBy(t => -t.Length).First();
            wrong += best.Item1 != 0 ? 1 : 0;
            distance += best.Item1;
            length += best.Length;
        }

        return ((double)wrong / predictions.Count, (double)distance / length);
    }

    private static string[] Split(string phones) => phones.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string[] Strip(string[] phones) => phones.Select(p => p.TrimEnd('0', '1')).ToArray();

    private static int Distance(string[] a, string[] b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>data/g2p's split: word TAB pronunciation[ | pronunciation...].</summary>
    private static List<(string Word, string[][] Refs)> ReadSplit(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var rows = new List<(string, string[][])>();
        while (reader.ReadLine() is { } line)
        {
            var parts = line.Split('\t');
            rows.Add((parts[0], parts[1].Split(" | ").Select(Split).ToArray()));
        }

        return rows;
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
