using System;
using Microsoft.ML;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The v2 layout of a <see cref="VaeConfig"/> in <c>Model.key</c>, field by field (v1 stored it as JSON: <see cref="VaeConfig.FromJson"/>):
/// 13 column names (string id or -1); with an encoder its 3 tensor names and the preprocessing (width, height, channels,
/// resize kind, resize size: Int32; center crop: Boolean; scale: Double; the channel count, then Mean and Std: Singles);
/// with a decoder its 2 tensor names; then latent size, sample count, importance samples (Int32), use-latent-mean (Boolean),
/// seed (Int32), threshold (Single), threshold percentile (Double), batch size (Int32).
/// </summary>
internal static class VaeConfigFormat
{
    public static void Write(ModelSaveContext ctx, VaeConfig c, bool hasEncoder, bool hasDecoder)
    {
        foreach (string? column in Columns(c))
        {
            ctx.SaveStringOrNull(column);
        }

        if (hasEncoder)
        {
            ctx.SaveNonEmptyString(c.ImageTensorName);
            ctx.SaveNonEmptyString(c.MeanTensorName);
            ctx.SaveNonEmptyString(c.LogVarianceTensorName);
            WritePreprocessing(ctx, c.Preprocessing!);
        }

        if (hasDecoder)
        {
            ctx.SaveNonEmptyString(c.LatentTensorName);
            ctx.SaveNonEmptyString(c.LogitsTensorName);
        }

        ctx.Writer.Write(c.LatentSize);
        ctx.Writer.Write(c.SampleCount);
        ctx.Writer.Write(c.ImportanceSamples);
        ctx.Writer.Write(c.UseLatentMean);
        ctx.Writer.Write(c.Seed);
        ctx.Writer.Write(c.Threshold);
        ctx.Writer.Write(c.ThresholdPercentile);
        ctx.Writer.Write(c.BatchSize);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; a value that cannot be read is a corrupt entry (the caller checks the rest).</summary>
    public static VaeConfig Read(ModelLoadContext ctx, bool hasEncoder, bool hasDecoder)
    {
        var r = ctx.Reader;
        var columns = new string?[13];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = ModelEntry.Read(ctx, ctx.LoadStringOrNull);
        }

        var c = new VaeConfig
        {
            InputColumnName = columns[0],
            LatentInputColumnName = columns[1],
            NoiseColumnName = columns[2],
            MeanColumnName = columns[3],
            LogVarianceColumnName = columns[4],
            LatentColumnName = columns[5],
            ReconstructionColumnName = columns[6],
            ReconstructionLogLikelihoodColumnName = columns[7],
            KlDivergenceColumnName = columns[8],
            ElboColumnName = columns[9],
            LogLikelihoodColumnName = columns[10],
            ScoreColumnName = columns[11],
            PredictedLabelColumnName = columns[12],
        };
        if (hasEncoder)
        {
            var (image, mean, logVariance) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString()));
            var preprocessing = ReadPreprocessing(ctx);
            c = c with { ImageTensorName = image, MeanTensorName = mean, LogVarianceTensorName = logVariance, Preprocessing = preprocessing };
        }

        if (hasDecoder)
        {
            var (latent, logits) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString()));
            c = c with { LatentTensorName = latent, LogitsTensorName = logits };
        }

        var (latentSize, sampleCount, importanceSamples, useLatentMean, seed) = ModelEntry.Read(ctx, () =>
            (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadBoolean(), r.ReadInt32()));
        var (threshold, percentile, batchSize) = ModelEntry.Read(ctx, () => (r.ReadSingle(), r.ReadDouble(), r.ReadInt32()));
        return c with
        {
            LatentSize = latentSize,
            SampleCount = sampleCount,
            ImportanceSamples = importanceSamples,
            UseLatentMean = useLatentMean,
            Seed = seed,
            Threshold = threshold,
            ThresholdPercentile = percentile,
            BatchSize = batchSize,
        };
    }

    /// <summary>The encoder's preprocessing: width, height, channels, resize kind, resize size (Int32), center crop (Boolean), scale (Double), the channel count, then Mean and Std (Singles).</summary>
    public static void WritePreprocessing(ModelSaveContext ctx, ImagePreprocessingSettings p)
    {
        ctx.Writer.Write(p.Width);
        ctx.Writer.Write(p.Height);
        ctx.Writer.Write(p.Channels);
        ctx.Writer.Write((int)p.Resize);
        ctx.Writer.Write(p.ResizeSize);
        ctx.Writer.Write(p.CenterCrop);
        ctx.Writer.Write(p.Scale);
        ctx.Writer.Write(p.Mean.Length);
        foreach (float v in p.Mean)
        {
            ctx.Writer.Write(v);
        }

        foreach (float v in p.Std)
        {
            ctx.Writer.Write(v);
        }
    }

    /// <summary>Reads what <see cref="WritePreprocessing"/> wrote.</summary>
    public static ImagePreprocessingSettings ReadPreprocessing(ModelLoadContext ctx)
    {
        var r = ctx.Reader;
        var (width, height, channels, resize, resizeSize, crop, scale, count) = ModelEntry.Read(ctx, () =>
            (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadBoolean(), r.ReadDouble(), r.ReadInt32()));
        ModelEntry.Check(ctx, count == channels && (count == 1 || count == 3),
            $"its preprocessing has {count} Mean and Std values for {channels} channels, not one per channel (1 or 3)");
        var values = ModelEntry.Read(ctx, () =>
        {
            var all = new float[2 * count];
            for (int i = 0; i < all.Length; i++)
            {
                all[i] = r.ReadSingle();
            }

            return all;
        });
        return new ImagePreprocessingSettings(width, height, channels, (ResizeKind)resize, resizeSize, crop, scale,
            values.AsSpan(0, count).ToArray(), values.AsSpan(count).ToArray());
    }

    private static string?[] Columns(VaeConfig c) => new[]
    {
        c.InputColumnName, c.LatentInputColumnName, c.NoiseColumnName, c.MeanColumnName, c.LogVarianceColumnName, c.LatentColumnName,
        c.ReconstructionColumnName, c.ReconstructionLogLikelihoodColumnName, c.KlDivergenceColumnName, c.ElboColumnName,
        c.LogLikelihoodColumnName, c.ScoreColumnName, c.PredictedLabelColumnName,
    };
}
