using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Generation;
using Xunit;

namespace MlNotes.Transforms.Tests.Options;

public sealed partial class EveryOptionTests
{
    private static void Generation(List<OptionCase> cases)
    {
        string manifest = RepoPaths.Model("g2p-cmudict.json");
        string encoderFile = RepoPaths.Model("g2p-cmudict-encoder.onnx"), decoderFile = RepoPaths.Model("g2p-cmudict-decoder.onnx");
        var rows = new[] { "cat", "phoneme", "zyxt", "x-ray", "mlnotes" }.Select((w, i) => new WordsRow { Text = w, Alt = new[] { "dog", "a", "quixotic", "ox", "i" }[i] }).ToArray();
        var c = new CaseList<SequenceGeneratorEstimator.Options>(new(
            () => new() { ManifestFile = manifest, ModelBytes = Bytes(decoderFile), EncoderModelBytes = Bytes(encoderFile) },
            ml => ml.Data.LoadFromEnumerable(rows), (ml, o, data) => ml.Transforms.GenerateSequenceOnnx(o).Fit(data)), cases);
        Execution(c, decoderFile);
        c.Throws<NotSupportedException>(nameof(SequenceGeneratorEstimator.Options.ManifestFile), o => o.ManifestFile = RepoPaths.Model("text-fortunes.json"), "family 'text-encoder'");
        c.Throws<ArgumentOutOfRangeException>(nameof(SequenceGeneratorEstimator.Options.EncoderModelFile), o => o.EncoderModelFile = encoderFile);
        c.Custom(nameof(SequenceGeneratorEstimator.Options.EncoderModelBytes), () =>
        {
            Assert.Equal(c.Family.Run().Signature, c.Family.Run(change: o => (o.EncoderModelBytes, o.EncoderModelFile) = (null, encoderFile)).Signature);
            Assert.Equal(c.Family.Run().Signature, c.Family.Run(change: o => (o.EncoderModelBytes, o.ModelBytes) = (null, null)).Signature); // the manifest's graphs
            Assert.IsType<InvalidOperationException>(Record.Exception(() => c.Family.Run(change: o => o.EncoderModelBytes = s_garbage)));
        });
        c.Differs(nameof(SequenceGeneratorEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(WordsRow.Alt));
        c.Differs(nameof(SequenceGeneratorEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Phones");
        c.Differs(nameof(SequenceGeneratorEstimator.Options.TokensColumnName), o => o.TokensColumnName = "Ids");
        c.Differs(nameof(SequenceGeneratorEstimator.Options.ScoreColumnName), o => o.ScoreColumnName = "LogProbability");
        c.Differs(nameof(SequenceGeneratorEstimator.Options.FinishedColumnName), o => o.FinishedColumnName = "Ended");
        c.Differs(nameof(SequenceGeneratorEstimator.Options.NBestTextsColumnName), o => o.NBestTextsColumnName = "Alternatives", setup: o => (o.Strategy, o.NBest) = (GenerationStrategy.Beam, 2));
        c.Differs(nameof(SequenceGeneratorEstimator.Options.NBestScoresColumnName), o => o.NBestScoresColumnName = "AlternativeScores", setup: o => (o.Strategy, o.NBest) = (GenerationStrategy.Beam, 2));
        c.Differs(nameof(SequenceGeneratorEstimator.Options.Strategy), o => o.Strategy = GenerationStrategy.Sample);
        c.Compare(nameof(SequenceGeneratorEstimator.Options.BeamWidth), o => o.BeamWidth = 2, (before, after) =>
        {
            Assert.Equal(4, ((SequenceGeneratorTransformer)before.Model).BeamWidth); // the manifest's
            Assert.Equal(2, ((SequenceGeneratorTransformer)after.Model).BeamWidth);
            Assert.True(after.Sessions[1].RunCount > 0);
        }, setup: o => o.Strategy = GenerationStrategy.Beam);
        c.Differs(nameof(SequenceGeneratorEstimator.Options.LengthPenalty), o => o.LengthPenalty = 2, setup: o => o.Strategy = GenerationStrategy.Beam);
        c.Differs(nameof(SequenceGeneratorEstimator.Options.NBest), o => o.NBest = 3, setup: o => o.Strategy = GenerationStrategy.Beam);
        c.Differs(nameof(SequenceGeneratorEstimator.Options.Temperature), o => o.Temperature = 4, setup: o => o.Strategy = GenerationStrategy.Sample);
        c.Differs(nameof(SequenceGeneratorEstimator.Options.TopK), o => o.TopK = 1, setup: o => (o.Strategy, o.Temperature) = (GenerationStrategy.Sample, 3));
        c.Differs(nameof(SequenceGeneratorEstimator.Options.TopP), o => o.TopP = 0.01f, setup: o => (o.Strategy, o.Temperature) = (GenerationStrategy.Sample, 3));
        c.Differs(nameof(SequenceGeneratorEstimator.Options.Seed), o => o.Seed = 5, setup: o => (o.Strategy, o.Temperature) = (GenerationStrategy.Sample, 3));
        c.Differs(nameof(SequenceGeneratorEstimator.Options.MaxNewTokens), o => o.MaxNewTokens = 2);
        c.Compare(nameof(SequenceGeneratorEstimator.Options.UseCache), o => o.UseCache = false, (before, after) =>
        {
            // The same tokens (GeneratedText, GeneratedTokens, Finished); uncached recomputes the prefix at every step.
            Assert.True(((SequenceGeneratorTransformer)before.Model).Config.UseCache);
            Assert.False(((SequenceGeneratorTransformer)after.Model).Config.UseCache);
            Assert.Equal(before.Columns.Where(k => k.Name != "Score").Select(k => string.Join(",", k.Rows.Select(r => string.Join(" ", r.Texts ?? r.Numbers!.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))))),
                after.Columns.Where(k => k.Name != "Score").Select(k => string.Join(",", k.Rows.Select(r => string.Join(" ", r.Texts ?? r.Numbers!.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))))));
        });
        c.Throws<InvalidOperationException>(nameof(SequenceGeneratorEstimator.Options.RefuseUnknownSymbols), o => o.RefuseUnknownSymbols = true);
        c.Compare(nameof(SequenceGeneratorEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);
    }

    private sealed class WordsRow
    {
        public string Text { get; set; } = "";

        public string Alt { get; set; } = "";
    }
}
