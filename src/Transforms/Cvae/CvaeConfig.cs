using System;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Cvae;

/// <summary>What a CVAE transformer computes.</summary>
internal enum CvaeMode
{
    /// <summary>The decoder alone: an image per row for the row's label, z from the seeded prior (or a noise column).</summary>
    Generate = 1,

    /// <summary>Both graphs: the conditional ELBO of (image, label).</summary>
    Score = 2,

    /// <summary>Both graphs: ELBO(x, c) for every class c, then P(c | x) by Bayes' rule.</summary>
    Classify = 3,
}

/// <summary>
/// Everything a CVAE transformer resolved from its manifests and options; stored field by field in its model zip (v1):
/// mode (Int32); 9 column names (string id or -1); 7 tensor names (string id or -1); with an encoder the preprocessing
/// (<see cref="VaeConfigFormat.WritePreprocessing"/>); latent size (Int32); the class names (count, then strings); the log
/// priors (count, then Singles); seed (Int32), use-latent-mean (Boolean), batch size (Int32).
/// </summary>
internal sealed record CvaeConfig
{
    public CvaeMode Mode { get; init; }

    public string? InputColumnName { get; init; }

    public string? LabelColumnName { get; init; }

    public string? NoiseColumnName { get; init; }

    public string? GeneratedImageColumnName { get; init; }

    public string? ElboColumnName { get; init; }

    public string? ReconstructionLogLikelihoodColumnName { get; init; }

    public string? KlDivergenceColumnName { get; init; }

    public string? ScoreColumnName { get; init; }

    public string? PredictedLabelColumnName { get; init; }

    public string? ImageTensorName { get; init; }

    public string? EncoderLabelTensorName { get; init; }

    public string? MeanTensorName { get; init; }

    public string? LogVarianceTensorName { get; init; }

    public string? LatentTensorName { get; init; }

    public string? DecoderLabelTensorName { get; init; }

    public string? LogitsTensorName { get; init; }

    public ImagePreprocessingSettings? Preprocessing { get; init; }

    public int LatentSize { get; init; }

    public string[] ClassNames { get; init; } = Array.Empty<string>();

    /// <summary>log P(c), normalized; the classifier's only.</summary>
    public float[] LogPriors { get; init; } = Array.Empty<float>();

    public int Seed { get; init; }

    public bool UseLatentMean { get; init; }

    public int BatchSize { get; init; }

    public bool NeedsEncoder => Mode != CvaeMode.Generate;

    private string?[] Columns => new[]
    {
        InputColumnName, LabelColumnName, NoiseColumnName, GeneratedImageColumnName, ElboColumnName, ReconstructionLogLikelihoodColumnName,
        KlDivergenceColumnName, ScoreColumnName, PredictedLabelColumnName,
    };

    private string?[] Tensors => new[] { ImageTensorName, EncoderLabelTensorName, MeanTensorName, LogVarianceTensorName, LatentTensorName, DecoderLabelTensorName, LogitsTensorName };

    public void Write(ModelSaveContext ctx)
    {
        ctx.Writer.Write((int)Mode);
        foreach (string? name in Columns.Concat(Tensors))
        {
            ctx.SaveStringOrNull(name);
        }

        if (NeedsEncoder)
        {
            VaeConfigFormat.WritePreprocessing(ctx, Preprocessing!);
        }

        ctx.Writer.Write(LatentSize);
        ctx.Writer.Write(ClassNames.Length);
        foreach (string name in ClassNames)
        {
            ctx.SaveNonEmptyString(name);
        }

        ctx.Writer.Write(LogPriors.Length);
        foreach (float v in LogPriors)
        {
            ctx.Writer.Write(v);
        }

        ctx.Writer.Write(Seed);
        ctx.Writer.Write(UseLatentMean);
        ctx.Writer.Write(BatchSize);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; a value that cannot be read is a corrupt entry (<see cref="Problem"/> checks the rest).</summary>
    public static CvaeConfig Read(ModelLoadContext ctx)
    {
        var r = ctx.Reader;
        var mode = (CvaeMode)ModelEntry.Read(ctx, r.ReadInt32);
        ModelEntry.Check(ctx, Enum.IsDefined(mode), $"its mode {(int)mode} is not one of {string.Join(", ", Enum.GetNames<CvaeMode>())}");
        var names = ModelEntry.Read(ctx, () => Enumerable.Range(0, 16).Select(_ => ctx.LoadStringOrNull()).ToArray());
        var c = new CvaeConfig
        {
            Mode = mode,
            InputColumnName = names[0],
            LabelColumnName = names[1],
            NoiseColumnName = names[2],
            GeneratedImageColumnName = names[3],
            ElboColumnName = names[4],
            ReconstructionLogLikelihoodColumnName = names[5],
            KlDivergenceColumnName = names[6],
            ScoreColumnName = names[7],
            PredictedLabelColumnName = names[8],
            ImageTensorName = names[9],
            EncoderLabelTensorName = names[10],
            MeanTensorName = names[11],
            LogVarianceTensorName = names[12],
            LatentTensorName = names[13],
            DecoderLabelTensorName = names[14],
            LogitsTensorName = names[15],
        };
        if (c.NeedsEncoder)
        {
            c = c with { Preprocessing = VaeConfigFormat.ReadPreprocessing(ctx) };
        }

        var (latent, classCount) = ModelEntry.Read(ctx, () => (r.ReadInt32(), r.ReadInt32()));
        ModelEntry.Check(ctx, classCount is >= 2 and <= 1_000_000, $"its class count {classCount} is not in [2, 1000000]");
        var classes = ModelEntry.Read(ctx, () => Enumerable.Range(0, classCount).Select(_ => ctx.LoadNonEmptyString()).ToArray());
        int priorCount = ModelEntry.Read(ctx, r.ReadInt32);
        ModelEntry.Check(ctx, priorCount == 0 || priorCount == classCount, $"it has {priorCount} class priors for {classCount} classes");
        var priors = ModelEntry.Read(ctx, () => Enumerable.Range(0, priorCount).Select(_ => r.ReadSingle()).ToArray());
        var (seed, useMean, batch) = ModelEntry.Read(ctx, () => (r.ReadInt32(), r.ReadBoolean(), r.ReadInt32()));
        return c with { LatentSize = latent, ClassNames = classes, LogPriors = priors, Seed = seed, UseLatentMean = useMean, BatchSize = batch };
    }

    /// <summary>The first problem of settings read back from a model zip against the graphs saved with them, or null.</summary>
    public string? Problem(OnnxModel? encoder, OnnxModel decoder)
    {
        string? encoderProblem = encoder == null ? null : ModelEntry.First(
            ModelEntry.MissingTensor("image tensor", ImageTensorName, encoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("encoder label tensor", EncoderLabelTensorName, encoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("mean tensor", MeanTensorName, encoder.OutputMetadata, "output"),
            ModelEntry.MissingTensor("log-variance tensor", LogVarianceTensorName, encoder.OutputMetadata, "output"),
            Preprocessing == null ? "it has no preprocessing settings for the encoder" : Preprocessing.Problem());
        bool needsImage = Mode != CvaeMode.Generate, needsLabel = Mode != CvaeMode.Classify;
        return ModelEntry.First(
            NeedsEncoder != (encoder != null) ? $"its {Mode} mode does not fit the graphs saved with it" : null,
            Columns.Any(n => n != null && n.Length == 0) ? "one of its column names is empty" : null,
            needsImage && InputColumnName == null ? "it has no image column" : null,
            needsLabel && LabelColumnName == null ? "it has no label column" : null,
            ModelEntry.MissingTensor("latent tensor", LatentTensorName, decoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("decoder label tensor", DecoderLabelTensorName, decoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("logits tensor", LogitsTensorName, decoder.OutputMetadata, "output"),
            LatentSize < 1 ? $"its latent size is {LatentSize}, not at least 1" : null,
            BatchSize < 1 ? $"its batch size is {BatchSize}, not at least 1" : null,
            Mode == CvaeMode.Classify && LogPriors.Length != ClassNames.Length ? "its classifier has no class priors" : null,
            ModelEntry.NonFinite("log prior", LogPriors),
            encoderProblem);
    }
}
