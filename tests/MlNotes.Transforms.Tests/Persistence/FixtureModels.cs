using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Clip;
using MlNotes.Transforms.Gan;
using MlNotes.Transforms.Generation;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Text;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;
using MlNotes.Transforms.VqVae;

namespace MlNotes.Transforms.Tests.Persistence;

/// <summary>
/// One small model per public transformer, built from the committed test graphs, with a few fixed input rows: the code behind
/// the v1 fixture zips (Fixtures/Zips/v1), the save/load round trips and the corrupt-zip tests.
/// </summary>
internal abstract class FixtureComponent
{
    protected FixtureComponent(string name, double predictionTolerance)
    {
        Name = name;
        PredictionTolerance = predictionTolerance;
    }

    /// <summary>The fixture's file name: Fixtures/Zips/v1/&lt;Name&gt;.zip and &lt;Name&gt;.expected.json.</summary>
    public string Name { get; }

    /// <summary>How far a <c>PredictionEngine</c> (one row per run) may be from <c>Transform</c> (batches), relative (see <see cref="FixtureModels"/>).</summary>
    public double PredictionTolerance { get; }

    /// <summary>The fixed input rows.</summary>
    public abstract IDataView Input(MLContext ml);

    /// <summary>The input column names (the columns the tables leave out).</summary>
    public abstract IReadOnlyList<string> InputColumns { get; }

    /// <summary>Fits the component today, as the fixture zip was made.</summary>
    public abstract ITransformer Build(MLContext ml);

    /// <summary>Each input row through a <c>PredictionEngine</c> of <paramref name="model"/>, as a view of the typed outputs.</summary>
    public abstract IDataView PredictEach(MLContext ml, ITransformer model);

    public override string ToString() => Name;
}

internal sealed class FixtureComponent<TIn, TOut> : FixtureComponent
    where TIn : class
    where TOut : class, new()
{
    private readonly Func<TIn[]> _rows;
    private readonly SchemaDefinition? _schema;
    private readonly Func<MLContext, IDataView, ITransformer> _build;

    public FixtureComponent(string name, double predictionTolerance, Func<TIn[]> rows, SchemaDefinition? schema, Func<MLContext, IDataView, ITransformer> build)
        : base(name, predictionTolerance)
    {
        _rows = rows;
        _schema = schema;
        _build = build;
    }

    public override IReadOnlyList<string> InputColumns => (_schema ?? SchemaDefinition.Create(typeof(TIn))).Select(c => c.ColumnName).ToArray();

    public override IDataView Input(MLContext ml) => ml.Data.LoadFromEnumerable(_rows(), _schema);

    public override ITransformer Build(MLContext ml) => _build(ml, Input(ml));

    public override IDataView PredictEach(MLContext ml, ITransformer model)
    {
        using var engine = ml.Model.CreatePredictionEngine<TIn, TOut>(model, inputSchemaDefinition: _schema);
        var predictions = _rows().Select(row => engine.Predict(row)).ToArray();
        return ml.Data.LoadFromEnumerable(predictions);
    }
}

internal static class FixtureModels
{
    private static readonly string s_vision = TestModels.Path("vision");
    private static readonly string s_text = TestModels.Path("text");
    private static readonly string s_vae = TestModels.Path("vae");
    private static readonly float[] s_imageNetMean = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] s_imageNetStd = { 0.229f, 0.224f, 0.225f };

    // PredictionTolerance, per component: the largest relative gap between PredictionEngine (batches of 1) and Transform
    // (batches of 2), measured on this machine with the rows below, and the bound chosen. Components whose arithmetic does not
    // depend on the batch are bit-exact (0).
    public static readonly FixtureComponent[] All =
    {
        // multi_io: a*2+1, b*b, c+1, sums and comparisons, element-wise: bit-exact in any batch.
        new FixtureComponent<MultiIoRow, MultiIoScored>("onnx-scoring", 0, MultiIoRows, null, (ml, data) => ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelBytes = Bytes(TestModels.MultiIo),
            BatchSize = 2,
        }).Fit(data)),

        // A CNN (Conv, GlobalAveragePool, Gemm): measured gap 0 (ONNX Runtime's kernels run each image alike).
        new FixtureComponent<ImagePathRow, ClassifiedRow>("image-classifier", 0, ImagePathRows, null, (ml, data) => ml.Transforms.ClassifyImageOnnx(new OnnxImageClassifierEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_vision, "user_classifier.onnx")),
            InputColumnName = nameof(ImagePathRow.ImagePath),
            ImageWidth = 224,
            ImageHeight = 224,
            ImageChannels = 3,
            Resize = ResizeKind.ShortestSide,
            ResizeSize = 256,
            Mean = s_imageNetMean,
            Std = s_imageNetStd,
            ClassNames = new[] { "cat", "dog", "bird", "fish", "frog" },
            TopK = 2,
            ContinueOnError = true,
            BatchSize = 2,
        }).Fit(data)),

        // The same CNN's logits as an embedding (normalized; the missing file gives NaN and the error flag): measured gap 0.
        new FixtureComponent<ImagePathRow, ImageEmbeddingRow>("image-encoder", 0, ImagePathRows, null, (ml, data) => ml.Transforms.EncodeClipImage(new OnnxImageEncoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_vision, "user_classifier.onnx")),
            InputColumnName = nameof(ImagePathRow.ImagePath),
            ImageWidth = 224,
            ImageHeight = 224,
            ImageChannels = 3,
            Resize = ResizeKind.ShortestSide,
            ResizeSize = 256,
            Mean = s_imageNetMean,
            Std = s_imageNetStd,
            ContinueOnError = true,
            BatchSize = 2,
        }).Fit(data)),

        // BERT-like: rows padded to their batch's longest row; measured gap 0 (masked positions do not reach the real ones).
        new FixtureComponent<TextRow, TextEncodedRow>("text-encoder", 0, TextRows, null, (ml, data) => ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_text, "bert_like.onnx")),
            VocabFile = Path.Combine(s_text, "bert_like_vocab.txt"),
            Pooling = TextPooling.Mean,
            MaxLength = 32,
            TokenEmbeddingsColumnName = "TokenEmbeddings",
            BatchSize = 2,
            SortWindow = 2,
        }).Fit(data)),

        // EncodeClipText: the same transformer, CLS pooling, normalized. Measured gap 0.
        new FixtureComponent<TextRow, ClipTextRow>("clip-text-encoder", 0, TextRows, null, (ml, data) => ml.Transforms.EncodeClipText(new OnnxTextEncoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_text, "bert_like.onnx")),
            VocabFile = Path.Combine(s_text, "bert_like_vocab.txt"),
            EmbeddingColumnName = "TextEmbedding",
            Pooling = TextPooling.Cls,
            MaxLength = 32,
            BatchSize = 2,
        }).Fit(data)),

        // The SentencePiece unigram and byte-level BPE encoders (make_foreign_text.py): the tokenizer files go inside the zip. Measured gap 0.
        new FixtureComponent<TextRow, TextEncodedRow>("text-encoder-sentencepiece", 0, ForeignTextRows, null, (ml, data) => ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_text, "spm_encoder.onnx")),
            VocabFile = Path.Combine(s_text, "spm_unigram.model"),
            MaxLength = 24,
            TokenEmbeddingsColumnName = "TokenEmbeddings",
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<TextRow, TextEncodedRow>("text-encoder-bpe", 0, ForeignTextRows, null, (ml, data) => ml.Transforms.EncodeTextOnnx(new OnnxTextEncoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_text, "bbpe_encoder.onnx")),
            VocabFile = Path.Combine(s_text, "bbpe_vocab.json"),
            MergesFile = Path.Combine(s_text, "bbpe_merges.txt"),
            MaxLength = 24,
            TokenEmbeddingsColumnName = "TokenEmbeddings",
            BatchSize = 2,
        }).Fit(data)),

        // Tiny VAE (TestModels/vae): given noise, so PredictionEngine's rows get the same eps. Measured gap 0.
        new FixtureComponent<PixelRow, LatentRow>("vae-encoder", 0, PixelRows, PixelSchema(4 * 2), (ml, data) => ml.Transforms.EncodeVae(new VaeEncoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_vae, "tiny_vae_encoder.onnx")),
            ManifestFile = Path.Combine(s_vae, "tiny_vae_encoder.json"),
            InputColumnName = nameof(PixelRow.Image),
            NoiseColumnName = nameof(PixelRow.Noise),
            SampleCount = 2,
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<LatentInputRow, ReconstructionRow>("vae-decoder", 0, LatentRows, LatentSchema(), (ml, data) => ml.Transforms.DecodeVae(new VaeDecoderEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_vae, "tiny_vae_decoder.onnx")),
            ManifestFile = Path.Combine(s_vae, "tiny_vae_decoder.json"),
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<PixelRow, VaeScoreRow>("vae-scorer", 0, PixelRows, PixelSchema(4 * 2), (ml, data) => ml.Transforms.ScoreVae(new VaeScorerEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_vae, "tiny_vae_encoder.onnx")),
            DecoderModelBytes = Bytes(Path.Combine(s_vae, "tiny_vae_decoder.onnx")),
            InputColumnName = nameof(PixelRow.Image),
            NoiseColumnName = nameof(PixelRow.Noise),
            ImportanceSamples = 2,
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<PixelRow, AnomalyRow>("vae-anomaly-detector", 0, PixelRows, PixelSchema(4 * 2), (ml, data) => ml.Transforms.DetectAnomaliesVae(new VaeAnomalyDetectorEstimator.Options
        {
            ModelBytes = Bytes(Path.Combine(s_vae, "tiny_vae_encoder.onnx")),
            DecoderModelBytes = Bytes(Path.Combine(s_vae, "tiny_vae_decoder.onnx")),
            InputColumnName = nameof(PixelRow.Image),
            NoiseColumnName = nameof(PixelRow.Noise),
            ImportanceSamples = 2,
            ThresholdPercentile = 50,
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<TowerRow, DualRow>("dual-encoder", 0, TowerRows, TowerSchema(), (ml, data) => ml.Transforms.EncodeDual(new DualEncoderEstimator.Options
        {
            ModelBytes = Bytes(TestModels.Path("tower_motion.onnx")),
            ModelBytesB = Bytes(TestModels.Path("tower_music.onnx")),
            LogitScale = 14.3f,
            BatchSize = 2,
        }).Fit(data)),

        // Row by row, no batches: bit-exact.
        new FixtureComponent<PairRow, SimilarityRow>("embedding-similarity", 0, PairRows, PairSchema(), (ml, data) => ml.Transforms.ComputeEmbeddingSimilarity("Similarity", "A", "B", logitScale: 2.5f).Fit(data)),

        // The search's dot products are the same sums in any batch: bit-exact.
        new FixtureComponent<QueryRow, MatchRow>("embedding-retrieval", 0, QueryRows, QuerySchema(), (ml, _) => ml.Transforms.RetrieveNearestEmbeddings(new EmbeddingRetrievalEstimator.Options
        {
            InputColumnName = nameof(QueryRow.Embedding),
            IndexKeyColumnName = nameof(QueryRow.Key),
            TopK = 3,
            BatchSize = 2,
        }).Fit(ml.Data.LoadFromEnumerable(IndexRows(), QuerySchema()))),

        // The text tower runs at Fit only; scoring is row by row: bit-exact.
        new FixtureComponent<ImageEmbeddingInputRow, ZeroShotRow>("zero-shot-classifier", 0, EmbeddingRows, EmbeddingSchema(), (ml, data) => ml.Transforms.ClassifyZeroShot(new ZeroShotClassifierEstimator.Options
        {
            ModelFile = Path.Combine(s_text, "bert_like.onnx"),
            VocabFile = Path.Combine(s_text, "bert_like_vocab.txt"),
            Labels = new[] { "cat", "dog", "fish" },
            Templates = new[] { "a photo of a {}.", "the {} sat on the mat" },
            LogitScale = 10f,
            InputColumnName = nameof(ImageEmbeddingInputRow.ImageEmbedding),
        }).Fit(data)),

        // The models-onnx VQ-VAE (no tiny one exists): both graphs, the codebook; then the decoder alone on key vectors.
        new FixtureComponent<VqVaeFixtureRows.PixelRow, VqVaeFixtureRows.ReconstructedRow>("vqvae-reconstructor", 0, VqVaeFixtureRows.Pixels, null, (ml, data) => ml.Transforms.ReconstructVqVae(new VqVaeReconstructorEstimator.Options
        {
            ModelBytes = Bytes(RepoPaths.Model("vqvae-fashion-encoder.onnx")),
            DecoderModelBytes = Bytes(RepoPaths.Model("vqvae-fashion-decoder.onnx")),
            ManifestFile = RepoPaths.Model("vqvae-fashion-encoder.json"),
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<VqVaeFixtureRows.CodesRow, VqVaeFixtureRows.DecodedRow>("vqvae-decoder", 0, VqVaeFixtureRows.Codes, null, (ml, data) => ml.Transforms.DecodeVqVae(new VqVaeDecoderEstimator.Options
        {
            ModelBytes = Bytes(RepoPaths.Model("vqvae-fashion-decoder.onnx")),
            ManifestFile = RepoPaths.Model("vqvae-fashion-decoder.json"),
            BatchSize = 2,
        }).Fit(data)),

        // The fortunes LM (decoder-only, models-onnx/lm-fortunes): beam search with its n-best columns; prompts of different
        // lengths, left-padded in a batch of 2; one row at a time gives the same tokens, scores within 1e-5 relative (passes; the gap
        // itself was not printed).
        new FixtureComponent<TextRow, GeneratedRow>("sequence-generator", 1e-5, PromptRows, null, (ml, data) => ml.Transforms.GenerateSequenceOnnx(new SequenceGeneratorEstimator.Options
        {
            ModelBytes = Bytes(RepoPaths.Model("lm-fortunes-decoder.onnx")),
            ManifestFile = RepoPaths.Model("lm-fortunes.json"),
            InputColumnName = nameof(TextRow.Text),
            Strategy = GenerationStrategy.Beam,
            BeamWidth = 2,
            NBest = 2,
            MaxNewTokens = 12,
            BatchSize = 2,
        }).Fit(data)),

        // The models-onnx GAN (no tiny one exists): the generator on fixed noise rows, the discriminator on three images.
        new FixtureComponent<GanFixtureRows.NoiseRow, GanFixtureRows.GeneratedRow>("gan-generator", 0, GanFixtureRows.Noise, null, (ml, data) => ml.Transforms.GenerateImagesGan(new GanGeneratorEstimator.Options
        {
            ModelBytes = Bytes(RepoPaths.Model("gan-fashion-generator.onnx")),
            ManifestFile = RepoPaths.Model("gan-fashion-generator.json"),
            NoiseColumnName = nameof(GanFixtureRows.NoiseRow.Noise),
            BatchSize = 2,
        }).Fit(data)),

        new FixtureComponent<VqVaeFixtureRows.PixelRow, GanFixtureRows.RealismRow>("gan-discriminator", 0, VqVaeFixtureRows.Pixels, null, (ml, data) => ml.Transforms.ScoreRealismGan(new GanDiscriminatorEstimator.Options
        {
            ModelBytes = Bytes(RepoPaths.Model("gan-fashion-discriminator.onnx")),
            ManifestFile = RepoPaths.Model("gan-fashion-discriminator.json"),
            BatchSize = 2,
        }).Fit(data)),
        // The tiny CVAE's generator, scorer and generative classifier (Persistence/CvaeFixtureRows.cs).
        CvaeFixtureRows.Generator,
        CvaeFixtureRows.Scorer,
        CvaeFixtureRows.Classifier,
    };

    public static FixtureComponent Get(string name) => All.Single(c => c.Name == name);

    public static IEnumerable<object[]> Names => All.Select(c => new object[] { c.Name });

    /// <summary>
    /// The format each component writes today, by its fixture folder: a component whose format changed gets a zip in the new
    /// folder (Fixtures/Zips/v2, ...) beside the old ones, which keep loading. Components not listed still write v1.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> CurrentFormat = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["image-classifier"] = "v3", // v2: explicit fields instead of the settings as JSON; v3: layout, channel order, interpolation, offset, mean image, logits column, token pooling, energy column
        ["image-encoder"] = "v3",
        ["vae-encoder"] = "v2", // explicit fields, noise keyed by row id
        ["vae-decoder"] = "v2",
        ["vae-scorer"] = "v2",
        ["vae-anomaly-detector"] = "v3", // the anomaly score kind and the background VAE (Vae/VaeAnomalyScoreTests has its v3-only kinds)
        ["text-encoder"] = "v3", // v2: explicit fields (and the token state size); v3: the tokenizer's kind and settings
        ["clip-text-encoder"] = "v3",
        ["text-encoder-sentencepiece"] = "v3",
        ["text-encoder-bpe"] = "v3",
    };

    public static string FormatOf(string name) => CurrentFormat.TryGetValue(name, out string? version) ? version : "v1";

    private static byte[] Bytes(string path) => File.ReadAllBytes(path);

    private static float[][] Random(int rows, int size, int seed, double scale = 1, double offset = 0)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, size).Select(_ => (float)((random.NextDouble() * scale) + offset)).ToArray()).ToArray();
    }

    private static MultiIoRow[] MultiIoRows()
    {
        var (a, b, c, d, m) = (Input("a"), Input("b"), Input("c"), Input("d"), Input("m"));
        return Enumerable.Range(0, 3).Select(i => new MultiIoRow
        {
            a = a.Row(i).Select(v => (float)v).ToArray(),
            b = b.Row(i).ToArray(),
            c = c.Row(i).Select(v => (int)v).ToArray(),
            d = d.Row(i).Select(v => (long)v).ToArray(),
            m = m.Row(i).Select(v => v != 0).ToArray(),
        }).ToArray();

        static TestModels.Tensor Input(string name) => TestModels.Input("multi_io.onnx", name);
    }

    // Three PNGs of the vision fixtures and a file that does not exist (ContinueOnError: NaN scores, the error flag set).
    private static ImagePathRow[] ImagePathRows()
        => new[] { "img0.png", "img5.png", "img2.png", "no-such-image.png" }.Select(f => new ImagePathRow { ImagePath = Path.Combine(s_vision, f) }).ToArray();

    private static TextRow[] TextRows() => new[] { "Hello, world!", "The cat sat on the mat.", "", "zebra quux", "It is NOT a fine day?" }.Select(t => new TextRow { Text = t }).ToArray();

    private static TextRow[] PromptRows() => new[] { "The ", "Computers are ", "", "A man" }.Select(t => new TextRow { Text = t }).ToArray();

    private static TextRow[] ForeignTextRows() => new[] { "C++ is to C as Lung Cancer is to Lung.", "naïve café ½\tdone", "", "Hello, world!", "ALL CAPS, MiXeD cAsE" }.Select(t => new TextRow { Text = t }).ToArray();

    // 8 x 8 grey images in [0, 1] and standard-normal-ish noise for 2 samples of the 4-d latent.
    private static PixelRow[] PixelRows()
    {
        var images = Random(5, 64, seed: 11);
        var noise = Random(5, 8, seed: 12, scale: 4, offset: -2);
        return images.Select((image, i) => new PixelRow { Image = image, Noise = noise[i] }).ToArray();
    }

    private static LatentInputRow[] LatentRows() => Random(4, 4, seed: 13, scale: 4, offset: -2).Select(z => new LatentInputRow { Latent = z }).ToArray();

    private static TowerRow[] TowerRows()
    {
        var motion = TestModels.Input("tower_motion.onnx", "features");
        var music = TestModels.Input("tower_music.onnx", "features");
        return Enumerable.Range(0, 3).Select(i => new TowerRow { A = motion.FloatRow(i), B = music.FloatRow(i) }).ToArray();
    }

    private static PairRow[] PairRows()
    {
        var a = Random(4, 6, seed: 14, scale: 2, offset: -1);
        var b = Random(4, 6, seed: 15, scale: 2, offset: -1);
        return a.Select((v, i) => new PairRow { A = v, B = b[i] }).ToArray();
    }

    private static QueryRow[] IndexRows() => Random(20, 6, seed: 16, scale: 2, offset: -1).Select((v, i) => new QueryRow { Embedding = v, Key = $"item{i}" }).ToArray();

    // Four queries, the third with a NaN (it gets no match: index -1, NaN scores, empty keys).
    private static QueryRow[] QueryRows()
    {
        var queries = Random(4, 6, seed: 17, scale: 2, offset: -1);
        queries[2][3] = float.NaN;
        return queries.Select((v, i) => new QueryRow { Embedding = v, Key = $"query{i}" }).ToArray();
    }

    private static ImageEmbeddingInputRow[] EmbeddingRows() => Random(4, 16, seed: 18, scale: 2, offset: -1).Select(v => new ImageEmbeddingInputRow { ImageEmbedding = v }).ToArray();

    private static SchemaDefinition Sized<T>(params (string Column, int Size)[] sizes)
    {
        var schema = SchemaDefinition.Create(typeof(T));
        foreach (var (column, size) in sizes)
        {
            schema[column].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        }

        return schema;
    }

    private static SchemaDefinition PixelSchema(int noise) => Sized<PixelRow>((nameof(PixelRow.Image), 64), (nameof(PixelRow.Noise), noise));

    private static SchemaDefinition LatentSchema() => Sized<LatentInputRow>((nameof(LatentInputRow.Latent), 4));

    private static SchemaDefinition TowerSchema() => Sized<TowerRow>((nameof(TowerRow.A), 12), (nameof(TowerRow.B), 20));

    private static SchemaDefinition PairSchema() => Sized<PairRow>((nameof(PairRow.A), 6), (nameof(PairRow.B), 6));

    private static SchemaDefinition QuerySchema() => Sized<QueryRow>((nameof(QueryRow.Embedding), 6));

    private static SchemaDefinition EmbeddingSchema() => Sized<ImageEmbeddingInputRow>((nameof(ImageEmbeddingInputRow.ImageEmbedding), 16));

    public sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class ClassifiedRow
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public uint PredictedLabel { get; set; }

        public string[] TopKLabels { get; set; } = Array.Empty<string>();

        public float[] TopKScores { get; set; } = Array.Empty<float>();

        public bool ImageError { get; set; }
    }

    public sealed class ImageEmbeddingRow
    {
        public float[] ImageEmbedding { get; set; } = Array.Empty<float>();

        public bool ImageError { get; set; }
    }

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class TextEncodedRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public float[] TokenEmbeddings { get; set; } = Array.Empty<float>();
    }

    public sealed class GeneratedRow
    {
        public string GeneratedText { get; set; } = "";

        public int[] GeneratedTokens { get; set; } = Array.Empty<int>();

        public float Score { get; set; }

        public bool Finished { get; set; }

        public string[] NBestTexts { get; set; } = Array.Empty<string>();

        public float[] NBestScores { get; set; } = Array.Empty<float>();
    }

    public sealed class ClipTextRow
    {
        public float[] TextEmbedding { get; set; } = Array.Empty<float>();
    }

    public sealed class PixelRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public float[] Noise { get; set; } = Array.Empty<float>();
    }

    public sealed class LatentRow
    {
        public float[] LatentMean { get; set; } = Array.Empty<float>();

        public float[] LatentLogVariance { get; set; } = Array.Empty<float>();

        public float[] Latent { get; set; } = Array.Empty<float>();
    }

    public sealed class LatentInputRow
    {
        public float[] Latent { get; set; } = Array.Empty<float>();
    }

    public sealed class ReconstructionRow
    {
        public float[] Reconstruction { get; set; } = Array.Empty<float>();
    }

    public sealed class VaeScoreRow
    {
        public float ReconstructionLogLikelihood { get; set; }

        public float KlDivergence { get; set; }

        public float Elbo { get; set; }

        public float LogLikelihood { get; set; }
    }

    public sealed class AnomalyRow
    {
        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }

    public sealed class TowerRow
    {
        public float[] A { get; set; } = Array.Empty<float>();

        public float[] B { get; set; } = Array.Empty<float>();
    }

    public sealed class DualRow
    {
        public float[] EmbeddingA { get; set; } = Array.Empty<float>();

        public float[] EmbeddingB { get; set; } = Array.Empty<float>();

        public float Similarity { get; set; }
    }

    public sealed class PairRow
    {
        public float[] A { get; set; } = Array.Empty<float>();

        public float[] B { get; set; } = Array.Empty<float>();
    }

    public sealed class SimilarityRow
    {
        public float Similarity { get; set; }
    }

    public sealed class QueryRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Key { get; set; } = "";
    }

    public sealed class MatchRow
    {
        public int[] TopKIndices { get; set; } = Array.Empty<int>();

        public float[] TopKScores { get; set; } = Array.Empty<float>();

        public string[] TopKKeys { get; set; } = Array.Empty<string>();
    }

    public sealed class ImageEmbeddingInputRow
    {
        public float[] ImageEmbedding { get; set; } = Array.Empty<float>();
    }

    public sealed class ZeroShotRow
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public uint PredictedLabel { get; set; }
    }
}
