using System;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// Where a VAE-family transformer's graphs come from (VAE, CVAE, VQ-VAE): files or bytes, the manifest, where they run, which
/// graphs it needs, and the prefix of its options in errors (the anomaly detector's background model: <c>Background</c>).
/// </summary>
internal sealed record VaeModelSources(
    string? EncoderFile, byte[]? EncoderBytes, string? DecoderFile, byte[]? DecoderBytes, string? ManifestFile,
    OnnxExecutionSettings Settings, bool NeedsEncoder, bool NeedsDecoder, string OptionPrefix = "");

/// <summary>The opened graphs of a VAE-family transformer and the manifests they were checked against.</summary>
internal readonly record struct VaeGraphPair(IHost Host, OnnxModel? Encoder, ModelManifest? EncoderManifest, OnnxModel? Decoder, ModelManifest? DecoderManifest);

internal static partial class VaeGraphs
{
    /// <summary>The model-zip stream of the encoder graph.</summary>
    public const string EncoderStream = "EncoderOnnxModel";

    /// <summary>The model-zip stream of the decoder graph.</summary>
    public const string DecoderStream = "DecoderOnnxModel";

    /// <summary>The VAE and VQ-VAE entry's start: whether each graph is there, then each graph in a stream of its own.</summary>
    public static void SavePair(ModelSaveContext ctx, OnnxModel? encoder, OnnxModel? decoder)
    {
        ctx.Writer.Write(encoder != null);
        ctx.Writer.Write(decoder != null);
        encoder?.Save(ctx, EncoderStream);
        decoder?.Save(ctx, DecoderStream);
    }

    /// <summary>
    /// Reads what <see cref="SavePair"/> wrote and builds the mapper from the graphs and the rest of the entry (read by
    /// <paramref name="build"/>); the sessions are disposed when the rest turns out to be corrupt.
    /// </summary>
    public static T LoadPair<T>(IHostEnvironment env, string name, ModelLoadContext ctx, Func<IHost, OnnxModel?, OnnxModel?, T> build)
    {
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(name);
        var (hasEncoder, hasDecoder) = ModelEntry.Read(ctx, () => (ctx.Reader.ReadBoolean(), ctx.Reader.ReadBoolean()));
        return OnnxModel.LoadAll(env, host, ctx, new[] { hasEncoder ? EncoderStream : null, hasDecoder ? DecoderStream : null }, models => build(host, models[0], models[1]));
    }

    /// <summary>
    /// Opens the graphs <paramref name="sources"/> names, checked against their manifests (of the families
    /// <paramref name="family"/>-encoder and -decoder), and builds the mapper from them; the sessions are disposed when
    /// <paramref name="build"/> fails.
    /// </summary>
    /// <remarks>
    /// The manifest is <see cref="VaeModelSources.ManifestFile"/>, else the one beside the first graph. With both graphs, a
    /// given decoder file is checked against the manifest beside it when it has one; otherwise the encoder's manifest may name
    /// its decoder's manifest (<c>decoder</c>, relative to the encoder manifest's folder), which also names the decoder graph
    /// unless one is given.
    /// </remarks>
    public static T OpenPair<T>(IHostEnvironment env, string name, string family, VaeModelSources sources, Func<VaeGraphPair, T> build)
    {
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(name);
        var manifest = sources.ManifestFile != null ? ModelManifest.Load(sources.ManifestFile)
            : ModelManifest.Beside(sources.NeedsEncoder ? sources.EncoderFile : sources.DecoderFile);
        ModelManifest? encoderManifest = sources.NeedsEncoder ? manifest : null;
        ModelManifest? decoderManifest = sources.NeedsEncoder ? null : manifest;
        string? decoderFile = sources.DecoderFile;
        if (sources.NeedsEncoder && sources.NeedsDecoder)
        {
            // A decoder file the user gives is described by the manifest beside it, when it has one (it may be another
            // decoder than the one the encoder's manifest names); otherwise by the encoder manifest's 'decoder' entry.
            if (decoderFile != null && ModelManifest.Beside(decoderFile) is { } besideDecoder)
            {
                decoderManifest = besideDecoder;
            }
            else if (manifest?.Decoder != null && manifest.Folder != null)
            {
                string path = Path.Combine(manifest.Folder, manifest.Decoder);
                decoderManifest = ModelManifest.Load(path);
                if (decoderFile == null && sources.DecoderBytes == null && decoderManifest.ModelFile != null)
                {
                    decoderFile = Path.Combine(Path.GetDirectoryName(path)!, decoderManifest.ModelFile);
                }
            }
        }

        ManifestFields.CheckFamily(encoderManifest, name, family + "-encoder");
        ManifestFields.CheckFamily(decoderManifest, name, family + "-decoder");
        OnnxModel? encoder = null, decoder = null;
        try
        {
            if (sources.NeedsEncoder)
            {
                encoder = Open(host, sources.EncoderFile, sources.EncoderBytes, sources.OptionPrefix + "ModelFile", sources.Settings, encoderManifest);
            }

            if (sources.NeedsDecoder)
            {
                string option = sources.OptionPrefix + (sources.NeedsEncoder ? "DecoderModelFile" : "ModelFile");
                if (decoderFile == null && sources.DecoderBytes == null)
                {
                    string bytesOption = option.Replace("File", "Bytes", StringComparison.Ordinal);
                    ThrowHelper.BadOption(option, sources.NeedsEncoder
                        ? $"Give the decoder's ONNX model as {option} or {bytesOption}, or an encoder manifest whose 'decoder' names it."
                        : $"Give the decoder's ONNX model as {option} or {bytesOption}.");
                }

                decoder = Open(host, decoderFile, sources.DecoderBytes, option, sources.Settings, decoderManifest);
            }

            return build(new VaeGraphPair(host, encoder, encoderManifest, decoder, decoderManifest));
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }
}
