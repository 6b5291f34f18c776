using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Cvae;

namespace MlNotes.Transforms.Tests.Persistence;

/// <summary>The CVAE fixture components, on the tiny CVAE (TestModels/cvae: 8 x 8 images, 3 classes, latent size 2), and their rows.</summary>
internal static class CvaeFixtureRows
{
    private static readonly string s_folder = TestModels.Path("cvae");

    // Seeded z (keyed by row id) through the decoder, and the scores' per-row arithmetic: bit-exact in any batch.
    public static FixtureComponent Generator => new FixtureComponent<Row, GeneratedRow>("cvae-generator", 0, Rows, Schema(), (ml, data) => ml.Transforms.GenerateCvae(new CvaeGeneratorEstimator.Options
    {
        ModelBytes = Bytes("tiny_cvae_decoder.onnx"),
        ManifestFile = Path.Combine(s_folder, "tiny_cvae_decoder.json"),
        Seed = 3,
        BatchSize = 2,
    }).Fit(data));

    public static FixtureComponent Scorer => new FixtureComponent<Row, ScoreRow>("cvae-scorer", 0, Rows, Schema(), (ml, data) => ml.Transforms.ScoreCvae(new CvaeScorerEstimator.Options
    {
        ModelBytes = Bytes("tiny_cvae_encoder.onnx"),
        DecoderModelBytes = Bytes("tiny_cvae_decoder.onnx"),
        ManifestFile = Path.Combine(s_folder, "tiny_cvae_encoder.json"),
        NoiseColumnName = nameof(Row.Noise),
        BatchSize = 2,
    }).Fit(data));

    public static FixtureComponent Classifier => new FixtureComponent<Row, ClassRow>("cvae-classifier", 0, Rows, Schema(), (ml, data) => ml.Transforms.ClassifyCvae(new CvaeClassifierEstimator.Options
    {
        ModelBytes = Bytes("tiny_cvae_encoder.onnx"),
        DecoderModelBytes = Bytes("tiny_cvae_decoder.onnx"),
        ManifestFile = Path.Combine(s_folder, "tiny_cvae_encoder.json"),
        ClassPriors = new[] { 0.5f, 0.25f, 0.25f },
        BatchSize = 2,
    }).Fit(data));

    private static byte[] Bytes(string file) => File.ReadAllBytes(Path.Combine(s_folder, file));

    private static Row[] Rows()
    {
        var random = new Random(41);
        return Enumerable.Range(0, 5).Select(i => new Row
        {
            Image = Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble()).ToArray(),
            Label = i % 3,
            Noise = Enumerable.Range(0, 2).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray(),
        }).ToArray();
    }

    private static SchemaDefinition Schema()
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 64);
        schema[nameof(Row.Noise)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
        return schema;
    }

    public sealed class Row
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public int Label { get; set; }

        public float[] Noise { get; set; } = Array.Empty<float>();
    }

    public sealed class GeneratedRow
    {
        [VectorType(1, 8, 8)]
        public float[] GeneratedImage { get; set; } = Array.Empty<float>();
    }

    public sealed class ScoreRow
    {
        public float Elbo { get; set; }

        public float ReconstructionLogLikelihood { get; set; }

        public float KlDivergence { get; set; }
    }

    public sealed class ClassRow
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public uint PredictedLabel { get; set; }
    }
}
