using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Xunit;

namespace MlNotes.Trainers.Tests.Fixtures;

/// <summary>
/// Each loader of MlNotes.Trainers refuses a corrupt saved model with a <see cref="FormatException"/> naming the zip entry and the problem.
/// The committed fixture zips (v1, and v2 where a format has one) are rewritten in one place (a weight, a count, a size), located from the format each loader writes.
/// </summary>
public sealed class CorruptZipTests
{
    // MdnModelParameters (fixture: 1 feature, label size 1, K = 2, one hidden layer of 4): ints features, label size, K, hidden count,
    // hidden sizes, activation, sigma transform; doubles minimum sigma, coverage, label mean, label scale; int count; float weights.
    private const string MdnEntry = "TransformerChain/Model/Model.key";
    private static readonly byte[] s_mdnSizes = Ints(1, 1, 2, 1, 4);
    private const int MdnParameters = (1 + 1) * 4 + (4 + 1) * 2 * 3;

    // MdnSamplingTransformer (fixtures: 4 samples, seed 42): four string ids, then ints samples and seed; v2 then an int, the sample key.
    private const string SamplingEntry = "TransformerChain/Model.key";

    // InfoNceTransformer (fixture: A 4, B 3, embedding 2, linear heads): five string ids, ints sizes A, B, embedding, hidden count,
    // activation, count; float weights, the log logit scale last.
    private const string InfoNceEntry = "TransformerChain/Model.key";
    private static readonly byte[] s_infoNceSizes = Ints(4, 3, 2, 0);
    private const int InfoNceParameters = (4 + 1) * 2 + (3 + 1) * 2 + 1;

    // VectorQuantizerModelParameters (fixture: K = 4, D = 2): ints K, D; K x D floats; K longs (training counts); int re-initializations.
    private const string VqEntry = "TransformerChain/Model/Model.key";
    private static readonly byte[] s_vqSizes = Ints(4, 2);

    [Fact]
    public void Vq_code_value_that_is_NaN()
    {
        var ex = Corrupt(FixtureModels.VectorQuantizer.Name, VqEntry, bytes =>
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(Find(bytes, s_vqSizes) + 8 + 4 * 5), float.NaN));
        Assert.Equal($"The model zip entry '{VqEntry}' is corrupt: value 1 of code 2 is non-finite (NaN).", ex.Message);
    }

    [Fact]
    public void Vq_codebook_of_zero_codes()
    {
        var ex = Corrupt(FixtureModels.VectorQuantizer.Name, VqEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, s_vqSizes)), 0));
        Assert.Equal($"The model zip entry '{VqEntry}' is corrupt: sizes 0 (codes) and 2 (dimension), where there must be 1 to 65536 codes of at least one value.", ex.Message);
    }

    [Fact]
    public void Vq_negative_training_count()
    {
        var ex = Corrupt(FixtureModels.VectorQuantizer.Name, VqEntry, bytes =>
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(Find(bytes, s_vqSizes) + 8 + 4 * 8 + 8 * 3), -2));
        Assert.Equal($"The model zip entry '{VqEntry}' is corrupt: the training count of code 3 is negative (-2).", ex.Message);
    }

    [Fact]
    public void Mdn_weight_that_is_NaN()
    {
        var ex = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes =>
        {
            int weights = MdnCount(bytes) + 4;
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(weights + 4 * 5), float.NaN);
        });
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: weight 5 is non-finite (NaN).", ex.Message);
    }

    [Fact]
    public void Mdn_parameter_count_that_does_not_match_the_architecture()
    {
        var ex = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(MdnCount(bytes)), MdnParameters + 1));
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: it holds {MdnParameters + 1} parameters where the architecture has {MdnParameters}.", ex.Message);
    }

    [Fact]
    public void Mdn_components_of_zero()
    {
        var ex = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, s_mdnSizes) + 8), 0));
        Assert.Contains($"The model zip entry '{MdnEntry}' is corrupt: sizes 1 (features), 1 (label), 0 (components), 1 (hidden layers)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mdn_hidden_layer_of_negative_size()
    {
        var ex = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, s_mdnSizes) + 16), -4));
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: hidden layer 0 has -4 units.", ex.Message);
    }

    [Fact]
    public void Mdn_label_scale_of_zero_or_infinity()
    {
        // After the 7 ints of sizes and enums: minimum sigma, coverage, label mean, label scale (doubles).
        var zero = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(Find(bytes, s_mdnSizes) + 28 + 24), 0));
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: label scale 0 of dimension 0 is not positive.", zero.Message);
        var infinite = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(Find(bytes, s_mdnSizes) + 28 + 16), double.PositiveInfinity));
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: the label mean of dimension 0 is non-finite ({double.PositiveInfinity}).", infinite.Message);
    }

    [Fact]
    public void Mdn_coverage_and_minimum_sigma_out_of_range()
    {
        var coverage = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(Find(bytes, s_mdnSizes) + 28 + 8), 1.5));
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: interval coverage 1.5 is not in (0, 1).", coverage.Message);
        var sigma = Corrupt(FixtureModels.Mdn.Name, MdnEntry, bytes => BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(Find(bytes, s_mdnSizes) + 28), double.NaN));
        Assert.Equal($"The model zip entry '{MdnEntry}' is corrupt: minimum sigma NaN is not a positive finite number.", sigma.Message);
    }

    [Theory]
    [InlineData(0, "v1")]
    [InlineData(-7, "v1")]
    [InlineData(0, "v2")]
    public void Sampling_with_no_samples_per_row(int samples, string version)
    {
        var ex = Corrupt(FixtureModels.Sampling.Name, SamplingEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, Ints(4, 42))), samples), version);
        Assert.Equal($"The model zip entry '{SamplingEntry}' is corrupt: {samples} samples per row where at least 1 is needed.", ex.Message);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public void Sampling_output_column_that_is_blank(string version)
    {
        // Column names live in the entry's string table (UTF-16): "Samples" overwritten by as many spaces.
        var ex = Corrupt(FixtureModels.Sampling.Name, SamplingEntry, bytes => Blank(bytes, "Samples"), version);
        Assert.Equal($"The model zip entry '{SamplingEntry}' is corrupt: OutputColumnName is blank.", ex.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    public void Sampling_v2_with_an_unknown_sample_key(int key)
    {
        // v2 writes the key (1, row id) right after the samples and the seed.
        var ex = Corrupt(FixtureModels.Sampling.Name, SamplingEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, Ints(4, 42, 1)) + 8), key), "v2");
        Assert.Equal($"The model zip entry '{SamplingEntry}' is corrupt: unknown sample key {key} where 0 (row position) and 1 (row id) are known.", ex.Message);
    }

    [Fact]
    public void InfoNce_similarity_column_that_is_blank()
    {
        var ex = Corrupt(FixtureModels.InfoNce.Name, InfoNceEntry, bytes => Blank(bytes, "Similarity"));
        Assert.Equal($"The model zip entry '{InfoNceEntry}' is corrupt: SimilarityColumnName is blank.", ex.Message);
    }

    [Fact]
    public void InfoNce_weight_that_is_infinite()
    {
        var ex = Corrupt(FixtureModels.InfoNce.Name, InfoNceEntry, bytes =>
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(InfoNceCount(bytes) + 4 + 4 * 3), float.NegativeInfinity));
        Assert.Equal($"The model zip entry '{InfoNceEntry}' is corrupt: weight 3 is non-finite ({float.NegativeInfinity}).", ex.Message);
    }

    [Fact]
    public void InfoNce_parameter_count_that_does_not_match_the_architecture()
    {
        var ex = Corrupt(FixtureModels.InfoNce.Name, InfoNceEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(InfoNceCount(bytes)), 18));
        Assert.Equal($"The model zip entry '{InfoNceEntry}' is corrupt: it holds 18 parameters where the architecture has {InfoNceParameters}.", ex.Message);
    }

    [Fact]
    public void InfoNce_embedding_size_of_zero()
    {
        var ex = Corrupt(FixtureModels.InfoNce.Name, InfoNceEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, s_infoNceSizes) + 8), 0));
        Assert.Equal($"The model zip entry '{InfoNceEntry}' is corrupt: sizes 4 (A), 3 (B), 0 (embedding), 0 (hidden layers) where the first three must be positive.", ex.Message);
    }

    [Fact]
    public void InfoNce_negative_log_logit_scale()
    {
        var ex = Corrupt(FixtureModels.InfoNce.Name, InfoNceEntry, bytes =>
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(InfoNceCount(bytes) + 4 + 4 * (InfoNceParameters - 1)), -0.5f));
        Assert.Equal($"The model zip entry '{InfoNceEntry}' is corrupt: the log logit scale -0.5 is negative.", ex.Message);
    }

    [Fact]
    public void InfoNce_unknown_activation()
    {
        var ex = Corrupt(FixtureModels.InfoNce.Name, InfoNceEntry, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Find(bytes, s_infoNceSizes) + 16), 77));
        Assert.Equal($"The model zip entry '{InfoNceEntry}' is corrupt: unknown activation 77.", ex.Message);
    }

    // Where the MDN parameter count is: after the sizes (5 ints), activation and sigma transform (2 ints) and 4 doubles.
    private static int MdnCount(byte[] bytes)
    {
        int count = Find(bytes, s_mdnSizes) + 4 * 7 + 8 * 4;
        Assert.Equal(MdnParameters, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(count))); // the layout is the one described above
        return count;
    }

    // Where the InfoNCE parameter count is: after the sizes (4 ints) and the activation.
    private static int InfoNceCount(byte[] bytes)
    {
        int count = Find(bytes, s_infoNceSizes) + 4 * 5;
        Assert.Equal(InfoNceParameters, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(count)));
        return count;
    }

    private static void Blank(byte[] bytes, string text)
    {
        int at = Find(bytes, System.Text.Encoding.Unicode.GetBytes(text));
        System.Text.Encoding.Unicode.GetBytes(new string(' ', text.Length)).CopyTo(bytes, at);
    }

    private static byte[] Ints(params int[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    /// <summary>The one place <paramref name="pattern"/> occurs in <paramref name="bytes"/>.</summary>
    private static int Find(byte[] bytes, byte[] pattern)
    {
        var hits = Enumerable.Range(0, bytes.Length - pattern.Length + 1).Where(i => bytes.AsSpan(i, pattern.Length).SequenceEqual(pattern)).ToArray();
        Assert.Single(hits);
        return hits[0];
    }

    /// <summary>Copies the committed fixture zip, rewrites <paramref name="entry"/> in place, loads the copy in a fresh MLContext and returns what the loader threw.</summary>
    private static FormatException Corrupt(string fixture, string entry, Action<byte[]> change, string version = "v1")
    {
        string path = Path.Combine(Path.GetTempPath(), $"corrupt-{fixture}-{Guid.NewGuid():N}.zip");
        File.Copy(FixtureZipTests.ZipPath(fixture, version), path);
        try
        {
            using (var archive = ZipFile.Open(path, ZipArchiveMode.Update))
            {
                var found = archive.GetEntry(entry) ?? throw new InvalidOperationException($"{fixture}.zip has no entry {entry}: {string.Join(", ", archive.Entries.Select(e => e.FullName))}");
                byte[] bytes;
                using (var stream = found.Open())
                using (var copy = new MemoryStream())
                {
                    stream.CopyTo(copy);
                    bytes = copy.ToArray();
                }

                change(bytes);
                found.Delete();
                using var output = archive.CreateEntry(entry).Open();
                output.Write(bytes);
            }

            // ML.NET calls loaders through reflection: what they throw arrives wrapped, once per level of nesting.
            Exception? thrown = Record.Exception(() => new MLContext().Model.Load(path, out _));
            while (thrown is TargetInvocationException { InnerException: { } inner })
            {
                thrown = inner;
            }

            return Assert.IsType<FormatException>(thrown);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
