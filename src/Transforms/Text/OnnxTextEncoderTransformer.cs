using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Text;

[assembly: LoadableClass(typeof(OnnxTextEncoderTransformer), null, typeof(SignatureLoadModel),
    "MlNotes ONNX text encoder", OnnxTextEncoderTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Text;

/// <summary>
/// The transformer of <see cref="OnnxTextEncoderEstimator"/>: tokenizes with Microsoft.ML.Tokenizers, pads each run of rows to
/// its own longest row, scores in batches, pools the token states into an embedding and, for classifier graphs, adds probabilities
/// and the predicted label. Holds a native session: dispose it.
/// </summary>
public sealed partial class OnnxTextEncoderTransformer : OnnxTransformerBase, IOnnxMapper
{
    internal const string LoaderSignature = "MlNotesOnnxTextEncoder";
    private const string VocabStreamName = "Vocab";
    private const string MergesStreamName = "Merges";

    private readonly IHost _host;
    private readonly OnnxModel _model;
    private readonly byte[] _vocab;
    private readonly byte[]? _merges;
    private readonly TextTokenizer _tokenizer;
    private readonly ReadOnlyMemory<char>[] _classNames;
    private readonly TextOutputColumn[] _columns;
    private readonly TextGraphBindings _graphOutputs;
    private long _truncated;

    internal OnnxTextEncoderTransformer(IHostEnvironment env, OnnxTextEncoderEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(OnnxTextEncoderTransformer));
        OnnxScoringTransformer.CheckBatchSize(options.BatchSize);
        var folder = options.ModelFolder != null ? TextModelFolder.Read(options.ModelFolder) : null;
        string? modelFile = options.ModelFile ?? (options.ModelBytes == null ? folder?.OnnxFile : null);
        if (folder != null && modelFile == null && options.ModelBytes == null)
        {
            ThrowHelper.BadOption(nameof(options.ModelFolder), $"The model folder '{folder.Folder}' has no model.onnx or onnx/model.onnx (nor one .onnx file): set ModelFile.");
        }

        var manifest = options.ManifestFile != null ? ModelManifest.Load(options.ManifestFile) : ModelManifest.Beside(modelFile);
        ManifestFields.CheckFamily(manifest, "EncodeTextOnnx", "text-encoder", "clip-text");
        var (kind, vocabFile, mergesFile) = TextEncoderResolver.TokenizerFiles(options, manifest, folder);
        _vocab = ReadTokenizerFile(vocabFile);
        _merges = mergesFile != null ? ReadTokenizerFile(mergesFile) : null;
        byte[] bytes = OnnxModel.ReadBytes(modelFile, options.ModelBytes, out string name);
        var settings = options.ExecutionSettings;
        _model = OnnxModel.Create(_host, bytes, name, settings, fromSavedModel: false);
        try
        {
            manifest?.Validate(_model);
            Config = TextEncoderResolver.Resolve(options, manifest, TextGraph.Of(_model), folder, kind);
            _tokenizer = CreateTokenizer(Config, _vocab, _merges, vocabFile);
            TextEncoderResolver.CheckSpecialTokenIds(manifest, _tokenizer.SpecialId);
            _classNames = Config.ClassNames.Select(c => c.AsMemory()).ToArray();
            _columns = Columns(Config, _classNames);
            _graphOutputs = TextGraphBindings.Create(_model, Config);
            CheckVocabFitsTheGraph(vocabFile);
        }
        catch
        {
            _model.Dispose();
            throw;
        }
    }

    private OnnxTextEncoderTransformer(IHost host, OnnxModel model, byte[] vocab, byte[]? merges, TextEncoderConfig config)
    {
        _host = host;
        _model = model;
        _vocab = vocab;
        _merges = merges;
        Config = config;
        _tokenizer = TextTokenizer.Create(config, vocab, merges);
        _classNames = config.ClassNames.Select(c => c.AsMemory()).ToArray();
        _columns = Columns(config, _classNames);
        _graphOutputs = TextGraphBindings.Create(model, config);
    }

    internal override IReadOnlyList<OnnxModel> Sessions => [_model];

    internal override IOnnxMapper BatchedMapper => this;

    private protected override VersionInfo Version => GetVersionInfo();

    internal override OnnxTransformerBase Reopen() => new OnnxTextEncoderTransformer(_host, _model.Reopen(), _vocab, _merges, Config);

    /// <summary>Texts per ONNX Runtime run.</summary>
    public int BatchSize => Config.BatchSize;

    /// <summary>The embedding size.</summary>
    public int EmbeddingSize => Config.EmbeddingSize;

    /// <summary>Class names of a classifier graph, in its output order (empty for a pure encoder).</summary>
    public IReadOnlyList<string> ClassNames => Config.ClassNames;

    /// <summary>Texts cut to the maximum length so far (over every view and pass: a row read twice counts twice).</summary>
    public long TruncatedCount => Interlocked.Read(ref _truncated);

    /// <summary>
    /// Returns <see cref="TruncatedCount"/> and sets it back to 0, so that a job can count one pass over its data (the count is
    /// cumulative over every view, cursor and pass of this transformer, including the ones an evaluator or a cache makes).
    /// </summary>
    /// <returns>The count before the reset.</returns>
    public long ResetTruncatedCount() => Interlocked.Exchange(ref _truncated, 0);

    internal TextEncoderConfig Config { get; }

    internal long RunCount => _model.RunCount;

    int IBatchedMapper.BatchSize => Config.BatchSize * Config.SortWindow;

    /// <summary>The token ids the encoder feeds the graph for <paramref name="text"/>: [CLS] pieces [SEP], cut to the maximum length.</summary>
    /// <param name="text">The text; null reads as empty.</param>
    public IReadOnlyList<int> Tokenize(string? text) => Encode(text ?? "", out _);

    /// <summary>
    /// This encoder as Microsoft.Extensions.AI's embedding generator (for vector stores, Semantic Kernel): each call's strings
    /// are encoded in batches by this transformer, giving the vectors of its <c>Embedding</c> column. The generator borrows the
    /// transformer: dispose the transformer, not the generator, when done.
    /// </summary>
    /// <returns>The generator.</returns>
    public Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> AsEmbeddingGenerator()
    {
        _model.ThrowIfDisposed();
        return new OnnxTextEmbeddingGenerator(this, _model.Name);
    }

    DataViewSchema IBatchedMapper.GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShapes.Check(inputSchema, [new ColumnTypeRead(Config.InputColumnName, type => type is TextDataViewType, "String")]);
        return SchemaShapes.Append(inputSchema, OutputColumnsSchema());
    }

    SchemaShape IOnnxMapper.GetOutputSchema(SchemaShape inputSchema) => SchemaShapes.Extend(inputSchema,
        [new ColumnRead(Config.InputColumnName, c => c.Kind == SchemaShape.Column.VectorKind.Scalar && c.ItemType is TextDataViewType, "String")],
        SchemaShapes.Of(OutputColumnsSchema()));

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        _model.Save(ctx);
        ctx.SaveBinaryStream(VocabStreamName, writer => writer.Write(Convert.ToBase64String(_vocab)));
        if (_merges != null)
        {
            ctx.SaveBinaryStream(MergesStreamName, writer => writer.Write(Convert.ToBase64String(_merges)));
        }

        Config.Save(ctx);
    }

    IEnumerable<string> IBatchedMapper.InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => new[] { Config.InputColumnName };

    IBatch IBatchedMapper.CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, activeOutputs, capacity);

    void IBatchedMapper.ThrowIfDisposed() => ThrowIfDisposed();

    internal DataViewSchema OutputColumnsSchema()
    {
        var builder = new DataViewSchema.Builder();
        foreach (var column in _columns)
        {
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        }

        return builder.ToSchema();
    }

    private List<int> Encode(string text, out bool truncated) => _tokenizer.Encode(text, Config.MaxLength, out truncated);

    private static byte[] ReadTokenizerFile(string file)
    {
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"The tokenizer file '{file}' does not exist.", file);
        }

        return File.ReadAllBytes(file);
    }

    // The library's errors on a file of another kind (a vocab.txt given as a SentencePiece model, say) name the file.
    private static TextTokenizer CreateTokenizer(TextEncoderConfig config, byte[] vocab, byte[]? merges, string file)
    {
        try
        {
            return TextTokenizer.Create(config, vocab, merges);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Text.Json.JsonException or Google.Protobuf.InvalidProtocolBufferException or InvalidDataException)
        {
            return ThrowHelper.InvalidOperation<TextTokenizer>($"The tokenizer file '{file}' cannot be read as {config.Tokenizer}: {e.Message}", e);
        }
    }

    /// <summary>The embeddings of <paramref name="texts"/>, in order, computed by this transformer in batches.</summary>
    internal List<float[]> Embed(IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        var ml = new MLContext();
        var rows = texts.Select(t => new TextRow { Text = t }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var input = Config.InputColumnName == nameof(TextRow.Text)
            ? data
            : ml.Transforms.CopyColumns(Config.InputColumnName, nameof(TextRow.Text)).Fit(data).Transform(data);
        var output = Transform(input);
        var embedding = output.Schema[Config.EmbeddingColumnName];
        var result = new List<float[]>(rows.Length);
        using var cursor = output.GetRowCursor(new[] { embedding });
        var getter = cursor.GetGetter<VBuffer<float>>(embedding);
        VBuffer<float> vector = default;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            getter(ref vector);
            result.Add(vector.DenseValues().ToArray());
        }

        return result;
    }

    // v3: the tokenizer's kind and settings, merges.txt in the zip; v2: explicit fields (v1: one JSON string)
    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNTXTEN", LoaderSignature, 0x00010003);

    private static OnnxTextEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => Load(env, ctx, GetVersionInfo(), nameof(OnnxTextEncoderTransformer), (host, model) =>
        {
            byte[] vocab = LoadStream(ctx, VocabStreamName, "vocab");
            TextEncoderConfig config;
            if (ctx.Header.ModelVerWritten < 0x00010002)
            {
                config = ModelEntry.Json(ctx, "text encoder", TextEncoderConfig.FromJson);
                // v1 did not store the token state size: it is the graph's (v1 sliced token states with the embedding size, equal for its graphs).
                string? hidden = config.HiddenStateTensorName;
                int hiddenSize = hidden != null && model.OutputMetadata.TryGetValue(hidden, out var states) && states.Dimensions.Length > 0 ? Math.Max(states.Dimensions[^1], 0) : 0;
                config = config with { HiddenSize = hiddenSize };
            }
            else
            {
                config = TextEncoderConfig.Load(ctx, v3: ctx.Header.ModelVerWritten >= 0x00010003);
            }

            ModelEntry.Check(ctx, config.Problem(model));
            byte[]? merges = config.Tokenizer == TextTokenizerKind.ByteLevelBpe ? LoadStream(ctx, MergesStreamName, "merges") : null;
            try
            {
                return new OnnxTextEncoderTransformer(host, model, vocab, merges, config);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException or Google.Protobuf.InvalidProtocolBufferException)
            {
                ThrowHelper.CorruptEntry(ctx, $"its tokenizer files cannot be read as {config.Tokenizer}: {e.Message}", e, VocabStreamName);
                throw;
            }
        });

    // A tokenizer file saved as base-64 text in its own stream of the zip.
    private static byte[] LoadStream(ModelLoadContext ctx, string stream, string what)
    {
        string? text = null;
        bool found;
        try
        {
            found = ctx.TryLoadBinaryStream(stream, reader => text = reader.ReadString());
        }
        catch (Exception e) when (ModelEntry.IsReadFailure(e))
        {
            ThrowHelper.CorruptEntry(ctx, $"the {what} ends before its saved length (the entry is truncated)", e, stream);
            throw;
        }

        if (!found || text == null)
        {
            ThrowHelper.CorruptEntry(ctx, $"the {what} is missing: the model zip is truncated", stream: stream);
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException e)
        {
            ThrowHelper.CorruptEntry(ctx, $"the {what} is not the base-64 text it was saved as: {e.Message}", e, stream);
            throw;
        }

        if (bytes.Length == 0)
        {
            ThrowHelper.CorruptEntry(ctx, $"the {what} is empty", stream: stream);
        }

        return bytes;
    }

    private sealed class TextRow
    {
        public string? Text { get; set; }
    }
}
