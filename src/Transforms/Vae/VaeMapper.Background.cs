using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// The anomaly detector's background VAE (the likelihood ratio's second model), and the anomaly fields of format v3:
/// the score kind and, for the likelihood ratio, the background's graphs and settings.
/// </summary>
internal sealed partial class VaeMapper
{
    private const string BackgroundEncoderStream = "BackgroundEncoderOnnxModel";
    private const string BackgroundDecoderStream = "BackgroundDecoderOnnxModel";

    /// <summary>The column the background scores into; internal to the detector, never added to its output.</summary>
    private const string BackgroundElboColumn = "BackgroundElbo";

    /// <summary>The likelihood ratio's background VAE (its batches run beside this one's), or null.</summary>
    public VaeMapper? Background { get; }

    /// <summary>What the background VAE is asked to compute: the detector's ELBO (and log p(x)) on the same image and noise.</summary>
    public static VaeConfig BackgroundConfig(VaeConfig detector) => new()
    {
        InputColumnName = detector.InputColumnName,
        NoiseColumnName = detector.NoiseColumnName,
        ElboColumnName = BackgroundElboColumn,
        ImportanceSamples = detector.ImportanceSamples,
        UseLatentMean = detector.UseLatentMean,
        Seed = detector.Seed,
        BatchSize = detector.BatchSize,
    };

    /// <summary>This mapper with <paramref name="background"/> attached; both own their sessions as before (no new shares).</summary>
    public VaeMapper WithBackground(VaeMapper background)
    {
        string? problem = BackgroundMismatch(Config, background.Config);
        if (problem != null)
        {
            ThrowHelper.BadOption("BackgroundModelFile", $"The background VAE {background._encoder!.Name} does not fit the VAE {_encoder!.Name}: {problem}. The likelihood ratio needs the same VAE trained on perturbed images.");
        }

        return new VaeMapper(Host, _encoder, _decoder, Config, background);
    }

    /// <summary>The v3 anomaly fields: score kind (Int32), has background (Boolean), then its two graphs and its settings (v2 layout).</summary>
    public void SaveAnomalyFields(ModelSaveContext ctx)
    {
        ctx.Writer.Write((int)Config.AnomalyScore);
        ctx.Writer.Write(Background != null);
        if (Background != null)
        {
            Background._encoder!.Save(ctx, BackgroundEncoderStream);
            Background._decoder!.Save(ctx, BackgroundDecoderStream);
            VaeConfigFormat.Write(ctx, Background.Config, hasEncoder: true, hasDecoder: true);
        }
    }

    /// <summary>Reads what <see cref="SaveAnomalyFields"/> wrote, onto <paramref name="detector"/> (disposed when the fields are corrupt).</summary>
    public static VaeMapper LoadAnomalyFields(IHostEnvironment env, ModelLoadContext ctx, VaeMapper detector)
    {
        OnnxModel? encoder = null, decoder = null;
        try
        {
            var (kind, hasBackground) = ModelEntry.Read(ctx, () => ((VaeAnomalyScore)ctx.Reader.ReadInt32(), ctx.Reader.ReadBoolean()));
            var config = detector.Config with { AnomalyScore = kind };
            ModelEntry.Check(ctx, config.Problem(detector._encoder, detector._decoder));
            ModelEntry.Check(ctx, hasBackground == (kind == VaeAnomalyScore.LikelihoodRatio),
                hasBackground ? $"it holds a background VAE for the anomaly score {kind}" : "its likelihood ratio has no background VAE");
            if (!hasBackground)
            {
                return new VaeMapper(detector.Host, detector._encoder, detector._decoder, config);
            }

            var host = env.Register(BackgroundElboColumn);
            encoder = OnnxModel.Load(env, host, ctx, BackgroundEncoderStream);
            decoder = OnnxModel.Load(env, host, ctx, BackgroundDecoderStream);
            var background = VaeConfigFormat.Read(ctx, hasEncoder: true, hasDecoder: true);
            ModelEntry.Check(ctx, background.Problem(encoder, decoder) is string p ? "its background VAE: " + p : null);
            ModelEntry.Check(ctx, BackgroundMismatch(config, background) is string m ? "its background VAE does not fit: " + m : null);
            return new VaeMapper(detector.Host, detector._encoder, detector._decoder, config, new VaeMapper(host, encoder, decoder, background));
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            detector.Dispose();
            throw;
        }
    }

    /// <summary>Why a background VAE cannot score beside the detector's (the same image and noise feed both), or null.</summary>
    private static string? BackgroundMismatch(VaeConfig detector, VaeConfig background)
    {
        static string Describe(ImagePreprocessingSettings p) => $"{p.Channels} x {p.Height} x {p.Width}, resize {p.Resize} {p.ResizeSize}, crop {p.CenterCrop}, "
            + $"scale {p.Scale}, mean [{string.Join(", ", p.Mean)}], std [{string.Join(", ", p.Std)}]";

        var (a, b) = (detector.Preprocessing!, background.Preprocessing!);
        bool same = a.Width == b.Width && a.Height == b.Height && a.Channels == b.Channels && a.Resize == b.Resize && a.ResizeSize == b.ResizeSize
            && a.CenterCrop == b.CenterCrop && a.Scale == b.Scale && a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);
        return ModelEntry.First(
            background.LatentSize != detector.LatentSize ? $"its latent size is {background.LatentSize}, expected {detector.LatentSize}" : null,
            !same ? $"its preprocessing is {Describe(b)}, expected {Describe(a)}" : null,
            background.InputColumnName != detector.InputColumnName || background.NoiseColumnName != detector.NoiseColumnName
                || background.ImportanceSamples != detector.ImportanceSamples || background.UseLatentMean != detector.UseLatentMean || background.Seed != detector.Seed
                ? "its image column, noise column, importance samples, latent-mean setting or seed differ from the detector's" : null);
    }
}
