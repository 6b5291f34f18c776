using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
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
/// The session is reference-counted: the owning transformer holds one reference (released by <see cref="Dispose"/>), every
/// batch that runs it holds another (<see cref="Lease"/>), and transformers fitted from one estimator share it
/// (<see cref="Reopen"/>, <see cref="Share"/>). The session is freed when the last reference goes, so disposing a transformer while a
/// <c>PredictionEngine</c> or a cursor still runs it never frees native memory under them; new uses of the disposed
/// transformer throw <see cref="ObjectDisposedException"/>.
/// </summary>
internal sealed class OnnxModel : IDisposable
{
    internal const string ModelStreamName = "OnnxModel";
    private readonly SharedSession _shared;
    private readonly StrongBox<long> _runCount;
    private int _owners = 1;

    // The session the models reopened from this one share (not a reference: see Reopen), and where it runs.
    private readonly Lock _reopenLock = new();
    private SharedSession? _reopened;
    private OnnxExecutionProvider _reopenedProvider;

    private readonly IHost _host;

    private OnnxModel(IHost host, byte[] bytes, string name, SharedSession shared, StrongBox<long> runCount, OnnxExecutionProvider provider, OnnxExecutionSettings settings, string owner)
    {
        _host = host;
        Bytes = bytes;
        Name = name;
        _shared = shared;
        _runCount = runCount;
        ExecutionProvider = provider;
        Settings = settings;
        Owner = owner;
        InputMetadata = shared.Session.InputMetadata;
        OutputMetadata = shared.Session.OutputMetadata;
    }

    public byte[] Bytes { get; }

    /// <summary>Names the model in messages: its path in quotes, or where its bytes came from.</summary>
    public string Name { get; }

    /// <summary>The component that owns this reference, named by <see cref="ObjectDisposedException"/>.</summary>
    public string Owner { get; }

    public OnnxExecutionProvider ExecutionProvider { get; }

    public OnnxExecutionSettings Settings { get; }

    /// <summary>The session, until this owner is disposed (a batch reads it through its <see cref="Lease"/>, which outlives that).</summary>
    public InferenceSession Session
    {
        get
        {
            ThrowIfDisposed();
            return _shared.Session;
        }
    }

    public long RunCount => Interlocked.Read(ref _runCount.Value);

    public IReadOnlyDictionary<string, NodeMetadata> InputMetadata { get; }

    public IReadOnlyDictionary<string, NodeMetadata> OutputMetadata { get; }

    public static OnnxModel Create(IHost host, byte[] bytes, string name, OnnxExecutionSettings settings, bool fromSavedModel)
    {
        var session = OnnxSessionFactory.Create(bytes, settings, name, fromSavedModel, out var actual);
        if (actual != settings.Provider)
        {
            using var ch = host.Start("OnnxSession");
            ch.Warning($"Execution provider {settings.Provider} is not available: model {name} runs on {actual} (FallbackToCpu).");
        }

        return new OnnxModel(host, bytes, name, new SharedSession(session), new StrongBox<long>(), actual, settings, OwnerName(host));
    }

    /// <summary>Reads the model named by a file path or given as bytes (exactly one of them); <paramref name="fileOption"/> names the file option in errors (its bytes option is the same name with Bytes for File).</summary>
    public static byte[] ReadBytes(string? file, byte[]? bytes, out string name, string fileOption = "ModelFile")
    {
        string bytesOption = fileOption.Replace("File", "Bytes", StringComparison.Ordinal);
        if (file != null && bytes != null)
        {
            ThrowHelper.BadOption(fileOption, $"Give either {fileOption} or {bytesOption}, not both.");
        }

        if (file != null)
        {
            name = $"'{file}'";
            return OnnxSessionFactory.ReadModelFile(file);
        }

        if (bytes != null)
        {
            name = $"(given as {bytes.Length} bytes in {bytesOption})";
            return bytes.ToArray();
        }

        name = "";
        return ThrowHelper.BadOption<byte[]>(fileOption, $"Give the ONNX model as {fileOption} or {bytesOption}.");
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

    /// <summary>
    /// A loader's graphs: reads each stream named in <paramref name="streams"/> (null: that graph was not saved, its entry is null)
    /// in order, then builds the component from them; every graph read so far is disposed when a later one, or the rest of the
    /// entry, turns out to be corrupt.
    /// </summary>
    public static T LoadAll<T>(IHostEnvironment env, IHost host, ModelLoadContext ctx, IReadOnlyList<string?> streams, Func<OnnxModel?[], T> build)
    {
        var models = new OnnxModel?[streams.Count];
        try
        {
            for (int i = 0; i < streams.Count; i++)
            {
                models[i] = streams[i] is { } stream ? Load(env, host, ctx, stream) : null;
            }

            return build(models);
        }
        catch
        {
            foreach (var model in models)
            {
                model?.Dispose();
            }

            throw;
        }
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

    public void CountRun() => Interlocked.Increment(ref _runCount.Value);

    public void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _owners) == 0)
        {
            throw Disposed();
        }
    }

    /// <summary>
    /// One more owner: a <c>PredictionEngine</c> (which disposes the transformer it was made on, ML.NET's default) takes a
    /// share in it when it asks for a row mapper, so that disposing one engine leaves the model to the others and its creator.
    /// Each <see cref="Dispose"/> releases one share; the transformer is disposed when the last goes.
    /// </summary>
    public void AddOwner()
    {
        int current = Volatile.Read(ref _owners);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _owners, current + 1, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }

        throw Disposed();
    }

    /// <summary>A reference to the session for as long as a batch runs it: the session outlives the transformer's disposal until it is released.</summary>
    /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
    public SessionLease Lease()
    {
        ThrowIfDisposed();
        return _shared.TryAcquire() ? new SessionLease(_shared) : throw Disposed();
    }

    /// <summary>Another owner of the same session (a transformer fitted again from the same estimator), disposed separately.</summary>
    public OnnxModel Share()
    {
        ThrowIfDisposed();
        return _shared.TryAcquire() ? new OnnxModel(_host, Bytes, Name, _shared, _runCount, ExecutionProvider, Settings, Owner) : throw Disposed();
    }

    /// <summary>
    /// A new owner of a session of the same graph and settings, disposed or not this one: an estimator's next <c>Fit</c>. Models
    /// reopened from this one share one session while any of them (or a batch, a cursor, an engine) still holds it; once the last
    /// has released it, the next reopen creates a new session. This model keeps no reference of its own to that session, so an
    /// estimator that is never fitted again, or whose transformers are all disposed, holds none.
    /// </summary>
    public OnnxModel Reopen()
    {
        lock (_reopenLock)
        {
            if (_reopened is { } shared && shared.TryAcquire())
            {
                return new OnnxModel(_host, Bytes, Name, shared, new StrongBox<long>(), _reopenedProvider, Settings, Owner);
            }

            var model = Create(_host, Bytes, Name, Settings, fromSavedModel: false);
            (_reopened, _reopenedProvider) = (model._shared, model.ExecutionProvider);
            return model;
        }
    }

    /// <summary>
    /// A component's graphs reopened for an estimator's next <c>Fit</c> (<see cref="Reopen"/>; a null entry stays null), handed to
    /// <paramref name="build"/>; every graph reopened so far is released again when a later one, or the build, fails.
    /// </summary>
    public static T ReopenAll<T>(IReadOnlyList<OnnxModel?> models, Func<OnnxModel?[], T> build)
    {
        var reopened = new OnnxModel?[models.Count];
        try
        {
            for (int i = 0; i < models.Count; i++)
            {
                reopened[i] = models[i]?.Reopen();
            }

            return build(reopened);
        }
        catch
        {
            foreach (var model in reopened)
            {
                model?.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Releases one owner's share (<see cref="AddOwner"/>); after the last, the model is disposed (further calls do nothing) and its
    /// reference to the session goes. The session is freed once no batch and no other transformer holds it.
    /// </summary>
    public void Dispose()
    {
        int current = Volatile.Read(ref _owners);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _owners, current - 1, current);
            if (seen == current)
            {
                if (current == 1)
                {
                    _shared.Release();
                }

                return;
            }

            current = seen;
        }
    }

    private ObjectDisposedException Disposed() => new(Owner,
        $"The {Owner} over the ONNX model {Name} has been disposed (by its owner, or by the last PredictionEngine made on it: an engine disposes its model unless PredictionEngineOptions.OwnsTransformer is false).");

    internal sealed class SharedSession(InferenceSession session)
    {
        private int _references = 1;

        public InferenceSession Session { get; } = session;

        public bool TryAcquire()
        {
            int current = Volatile.Read(ref _references);
            while (current > 0)
            {
                int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
                if (seen == current)
                {
                    return true;
                }

                current = seen;
            }

            return false;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                Session.Dispose();
            }
        }
    }

    /// <summary>
    /// Logs, once per model, the warning that a view over it was scored in full a second time: a multi-pass trainer (SDCA, L-BFGS)
    /// in front of which nobody cached re-runs the graph on every pass (853 s instead of 6.8 s were measured for the README's pipeline).
    /// </summary>
    public void WarnFullReread()
    {
        if (Interlocked.Exchange(ref _rereadWarned, 1) != 0)
        {
            return;
        }

        using var ch = _host.Start("Full re-read");
        ch.Warning($"The {Owner} over the ONNX model {Name} has scored all of its input a second time: each pass over its output runs the graph again. " +
            "In front of a trainer that reads its data several times (SDCA, L-BFGS, FastTree), put .AppendCacheCheckpoint(mlContext) after it " +
            "(or mlContext.Data.Cache on its output) so that the graph runs once.");
    }

    private int _rereadWarned;

    // The component's name as registered with ML.NET (env.Register(nameof(...))), which IHost does not expose.
    private static string OwnerName(IHost host)
        => host.GetType().GetProperty("ShortName")?.GetValue(host) as string ?? host.ContextDescription;

    /// <summary>One reference to a session, held by a batch for as long as it may run it.</summary>
    internal sealed class SessionLease : IDisposable
    {
        private readonly InferenceSession _session;
        private SharedSession? _shared;

        internal SessionLease(SharedSession shared)
        {
            _shared = shared;
            _session = shared.Session;
        }

        public InferenceSession Session => _shared != null ? _session : throw new ObjectDisposedException(nameof(SessionLease));

        public void Dispose() => Interlocked.Exchange(ref _shared, null)?.Release();
    }
}
