using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Internal.Utilities;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Runtime;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// An ONNX model and the one session every cursor of a transformer shares (<see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/> is thread-safe).
/// Knows how to store its bytes in a model zip and read them back, checked by SHA-256.
/// </summary>
internal sealed class OnnxModel : IDisposable
{
    private const string ModelStreamName = "OnnxModel";
    private InferenceSession? _session;
    private long _runCount;

    private OnnxModel(byte[] bytes, string name, InferenceSession session, OnnxExecutionProvider provider, OnnxExecutionSettings settings)
    {
        Bytes = bytes;
        Name = name;
        _session = session;
        ExecutionProvider = provider;
        Settings = settings;
    }

    public byte[] Bytes { get; }

    /// <summary>Names the model in messages: its path in quotes, or where its bytes came from.</summary>
    public string Name { get; }

    public OnnxExecutionProvider ExecutionProvider { get; }

    public OnnxExecutionSettings Settings { get; }

    public InferenceSession Session => _session ?? throw new ObjectDisposedException(nameof(OnnxModel));

    public long RunCount => Interlocked.Read(ref _runCount);

    public IReadOnlyDictionary<string, NodeMetadata> InputMetadata => Session.InputMetadata;

    public IReadOnlyDictionary<string, NodeMetadata> OutputMetadata => Session.OutputMetadata;

    public static OnnxModel Create(IHost host, byte[] bytes, string name, OnnxExecutionSettings settings, bool fromSavedModel)
    {
        var session = OnnxSessionFactory.Create(bytes, settings, name, fromSavedModel, out var actual);
        if (actual != settings.Provider)
        {
            using var ch = host.Start("OnnxSession");
            ch.Warning($"Execution provider {settings.Provider} is not available: model {name} runs on {actual} (FallbackToCpu).");
        }

        return new OnnxModel(bytes, name, session, actual, settings);
    }

    /// <summary>Reads the model named by a file path or given as bytes (exactly one of them).</summary>
    public static byte[] ReadBytes(string? file, byte[]? bytes, out string name)
    {
        if (file != null && bytes != null)
        {
            ThrowHelper.BadOption("ModelFile", "Give either ModelFile or ModelBytes, not both.");
        }

        if (file != null)
        {
            name = $"'{file}'";
            return OnnxSessionFactory.ReadModelFile(file);
        }

        if (bytes != null)
        {
            name = $"(given as {bytes.Length} bytes)";
            return bytes.ToArray();
        }

        name = "";
        return ThrowHelper.BadOption<byte[]>("ModelFile", "Give the ONNX model as ModelFile or ModelBytes.");
    }

    /// <summary>Execution settings for a model being loaded: explicit load options, else the loading context's, else the CPU.</summary>
    public static OnnxExecutionSettings LoadTimeSettings(IHostEnvironment env, int intraOpNumThreads, int interOpNumThreads)
    {
        if (OnnxLoadScope.Current is { } explicitSettings)
        {
            return explicitSettings with { IntraOpNumThreads = intraOpNumThreads, InterOpNumThreads = interOpNumThreads };
        }

        if (env is IHostEnvironmentInternal context && context.GpuDeviceId is int deviceId)
        {
            return new OnnxExecutionSettings(OnnxExecutionProvider.Cuda, deviceId, context.FallbackToCpu, intraOpNumThreads, interOpNumThreads);
        }

        return OnnxExecutionSettings.Cpu with { IntraOpNumThreads = intraOpNumThreads, InterOpNumThreads = interOpNumThreads };
    }

    /// <summary>Writes the bytes (a stream of their own, <paramref name="streamName"/> when a transformer saves two graphs), their hash, the name and the thread counts.</summary>
    public void Save(ModelSaveContext ctx, string streamName = ModelStreamName)
    {
        ctx.SaveBinaryStream(streamName, writer => writer.WriteByteArray(Bytes));
        ctx.Writer.WriteByteArray(SHA256.HashData(Bytes));
        ctx.SaveNonEmptyString(Name);
        ctx.Writer.Write(Settings.IntraOpNumThreads);
        ctx.Writer.Write(Settings.InterOpNumThreads);
    }

    /// <summary>Reads what <see cref="Save"/> wrote and builds the session where the loading context says.</summary>
    public static OnnxModel Load(IHostEnvironment env, IHost host, ModelLoadContext ctx, string streamName = ModelStreamName)
    {
        byte[]? bytes = null;
        bool found;
        try
        {
            found = ctx.TryLoadBinaryStream(streamName, reader => bytes = reader.ReadByteArray());
        }
        catch (Exception e) when (ModelEntry.IsReadFailure(e))
        {
            ThrowHelper.CorruptEntry(ctx, "the ONNX model's bytes end before their saved length (the entry is truncated)", e, streamName);
            throw;
        }

        if (!found || bytes == null)
        {
            ThrowHelper.CorruptEntry(ctx, "it is missing: the model zip is truncated or was not written by MlNotes", stream: streamName);
        }

        var (hash, name, intra, inter) = ModelEntry.Read(ctx, () => (ctx.Reader.ReadByteArray(), ctx.LoadNonEmptyString(), ctx.Reader.ReadInt32(), ctx.Reader.ReadInt32()));
        if (hash.Length != SHA256.HashSizeInBytes)
        {
            ThrowHelper.CorruptEntry(ctx, $"the SHA-256 of the ONNX model '{streamName}' has {hash.Length} bytes, not {SHA256.HashSizeInBytes}");
        }

        if (!hash.AsSpan().SequenceEqual(SHA256.HashData(bytes)))
        {
            ThrowHelper.CorruptEntry(ctx, $"its ONNX model's SHA-256 does not match the one saved with it in '{ThrowHelper.EntryName(ctx)}' (the ONNX bytes were changed)", stream: streamName);
        }

        if (intra < 0 || inter < 0)
        {
            ThrowHelper.CorruptEntry(ctx, $"the ONNX session's thread counts of '{streamName}' are negative (intra-op {intra}, inter-op {inter})");
        }

        string loadedName = name.EndsWith(" (loaded from a model zip)", StringComparison.Ordinal) ? name : name + " (loaded from a model zip)";
        return Create(host, bytes, loadedName, LoadTimeSettings(env, intra, inter), fromSavedModel: true);
    }

    public void CountRun() => Interlocked.Increment(ref _runCount);

    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_session == null, this);

    public void Dispose()
    {
        _session?.Dispose();
        _session = null;
    }
}
