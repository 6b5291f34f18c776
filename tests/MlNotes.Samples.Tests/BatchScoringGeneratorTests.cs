using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Generation;
using Xunit;

namespace MlNotes.Samples.Tests;

/// <summary>The batch scoring command on a generator's model zip (the G2P Transformer): the CSV holds what the transform gives.</summary>
[Collection(nameof(BatchScoringTests))]
public sealed class BatchScoringGeneratorTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlnotes-batch-gen-" + Guid.NewGuid().ToString("N"));

    public sealed class WordRow
    {
        public string Word { get; set; } = "";
    }

    public sealed class Generated
    {
        public string GeneratedText { get; set; } = "";

        public float Score { get; set; }

        public bool Finished { get; set; }
    }

    [Fact]
    public void AGeneratorModelZip_IsScoredByTheCommand_AsItsTransformScoresIt()
    {
        Directory.CreateDirectory(_folder);
        string[] words = ["cat", "phoneme", "zyxt", "antidisestablishmentarianism", "a", "xray", "blorfication", .. Enumerable.Range(0, 70).Select(i => "word" + (char)('a' + (i % 26)) + (char)('a' + (i / 26)))];
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(words.Select(w => new WordRow { Word = w }));
        string manifest = Path.Combine(SampleContext.FindRepositoryRoot(AppContext.BaseDirectory), "models-onnx", "g2p-cmudict.json");
        string zip = Path.Combine(_folder, "g2p.zip");
        Generated[] expected;
        using (var model = ml.Transforms.GenerateSequenceOnnx(manifest, nameof(WordRow.Word), GenerationStrategy.Beam).Fit(data))
        {
            expected = ml.Data.CreateEnumerable<Generated>(model.Transform(data), reuseRowObject: false).ToArray();
            ml.Model.Save(model, data.Schema, zip);
        }

        string input = Path.Combine(_folder, "words.csv");
        File.WriteAllLines(input, ["Word", .. words]);
        string output = Path.Combine(_folder, "phones.csv");
        using (var process = BatchScoringTests.Start(zip, input, output))
        {
            string log = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"batch scoring failed: {log}");
        }

        var lines = File.ReadAllLines(output);
        var header = lines[0].Split(',');
        Assert.Equal(["RowIndex", "GeneratedText", "Score", "Finished"], header);
        Assert.Equal(words.Length + 1, lines.Length);
        for (int i = 0; i < words.Length; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(expected[i].GeneratedText, cells[1]);
            Assert.Equal(expected[i].Score, float.Parse(cells[2], System.Globalization.CultureInfo.InvariantCulture)); // the same batches: bit-exact
            Assert.Equal(expected[i].Finished ? "true" : "false", cells[3]);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
