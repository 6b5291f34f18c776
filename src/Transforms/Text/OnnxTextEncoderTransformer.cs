using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Tokenizers;
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
public sealed partial class OnnxTextEncoderTransformer : OnnxTransformerBase, IBatchedMapper
{
    internal const string LoaderSignature = "MlNotesOnnxTextEncoder";
    private const string VocabStreamName = "Vocab";

    private readonly IHost _host;
    private readonly OnnxModel _model;
    private readonly byte[] _vocab;
    private readonly BertTokenizer _tokenizer;
    private readonly ReadOnlyMemory<char>[] _classNames;
    private readonly TextOutputColumn[] _columns;
    private readonly TextGraphBindings _graphOutputs;
    private long _truncated;

    internal OnnxTextEncoderTransformer(IHostEnvironment env, OnnxTextEncoderEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(OnnxTextEncoderTransformer));
        OnnxScoringTransformer.CheckBatchSize(options.BatchSize);
        var manifest = options.ManifestFile != null ? ModelManifest.Load(options.ManifestFile) : ModelManifest.Beside(options.ModelFile);
        ManifestFields.CheckFamily(manifest, "EncodeTextOnnx", "text-encoder", "clip-text");
        string vocabFile = VocabPath(options, manifest);
        if (!File.Exists(vocabFile))
        {
            throw new FileNotFoundException($"The vocab file '{vocabFile}' does not exist.", vocabFile);
        }

        _vocab = File.ReadAllBytes(vocabFile);
        byte[] bytes = OnnxModel.ReadBytes(options.ModelFile, options.ModelBytes, out string name);
        var settings = options.ExecutionSettings;
        _model = OnnxModel.Create(_host, bytes, name, settings, fromSavedModel: false);
        try
        {
            manifest?.Validate(_model);
            Config = TextEncoderResolver.Resolve(options, manifest, TextGraph.Of(_model));
            _tokenizer = CreateTokenizer(_vocab, Config);
            TextEncoderResolver.CheckSpecialTokenIds(manifest, key => key switch
            {
                "unk" => _tokenizer.UnknownTokenId,
                "cls" => _tokenizer.ClassificationTokenId,
                "sep" => _tokenizer.SeparatorTokenId,
                "pad" => _tokenizer.PaddingTokenId,
                "mask" => _tokenizer.MaskingTokenId,
                _ => null,
            });
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

    private OnnxTextEncoderTransformer(IHost host, OnnxModel model, byte[] vocab, TextEncoderConfig config)
    {
        _host = host;
        _model = model;
        _vocab = vocab;
        Config = config;
        _tokenizer = CreateTokenizer(vocab, config);
        _classNames = config.ClassNames.Select(c => c.AsMemory()).ToArray();
        _columns = Columns(config, _classNames);
        _graphOutputs = TextGraphBindings.Create(model, config);
    }

    internal override IReadOnlyList<OnnxModel> Sessions => [_model];

    internal override IBatchedMapper BatchedMapper => this;

    private protected override VersionInfo Version => GetVersionInfo();

    internal override OnnxTransformerBase Reopen() => new OnnxTextEncoderTransformer(_host, _model.Reopen(), _vocab, Config);

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
        var column = inputSchema.GetColumnOrNull(Config.InputColumnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(inputSchema), Config.InputColumnName);
        }

        if (column.Value.Type is not TextDataViewType)
        {
            ThrowHelper.SchemaMismatch(nameof(inputSchema), Config.InputColumnName, "String", $"{column.Value.Type}");
        }

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumns(OutputColumnsSchema());
        return builder.ToSchema();
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        _model.Save(ctx);
        ctx.SaveBinaryStream(VocabStreamName, writer => writer.Write(Convert.ToBase64String(_vocab)));
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

    private List<int> Encode(string text, out bool truncated)
    {
        var ids = new List<int> { _tokenizer.ClassificationTokenId };
        foreach (string word in BertBasicTokenizer.Split(text, Config.LowerCase, Config.StripAccents, Config.TokenizeCjk))
        {
            // WordPiece on one word: a word it cannot cover, or one past MaxCharsPerWord, is [UNK].
            ids.AddRange(_tokenizer.EncodeToIds(word, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false));
        }

        // [CLS] first pieces [SEP]: the pieces are cut, the special tokens kept (as the Python export did).
        truncated = ids.Count + 1 > Config.MaxLength;
        if (truncated)
        {
            ids.RemoveRange(Config.MaxLength - 1, ids.Count - (Config.MaxLength - 1));
        }

        ids.Add(_tokenizer.SeparatorTokenId);
        return ids;
    }

    private static BertTokenizer CreateTokenizer(byte[] vocab, TextEncoderConfig c)
    {
        using var stream = new MemoryStream(vocab);
        return BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = c.LowerCase,
            RemoveNonSpacingMarks = c.StripAccents,
            IndividuallyTokenizeCjk = c.TokenizeCjk,
            ApplyBasicTokenization = true,
            UnknownToken = c.UnknownToken,
            ClassificationToken = c.ClsToken,
            SeparatorToken = c.SepToken,
            PaddingToken = c.PadToken,
            MaskingToken = c.MaskToken,
            MaxInputCharsPerWord = c.MaxCharsPerWord,
        });
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

    private static string VocabPath(OnnxTextEncoderEstimator.Options o, ModelManifest? manifest)
    {
        if (o.VocabFile != null)
        {
            return o.VocabFile;
        }

        string? relative = manifest?.Tokenizer?.VocabFile;
        string? folder = manifest?.Source.Trim('\'') is { Length: > 0 } source ? Path.GetDirectoryName(source) : null;
        if (relative == null || folder == null)
        {
            return ThrowHelper.BadOption<string>(nameof(o.VocabFile), "A text encoder needs a BERT vocab file: set VocabFile, or give a manifest whose tokenizer block names vocab_file.");
        }

        return Path.Combine(folder, relative);
    }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "MLNTXTEN",
        verWrittenCur: 0x00010002, // v2: the settings as explicit fields (v1: one JSON string), with the token state size
        verReadableCur: 0x00010002,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(OnnxTextEncoderTransformer).Assembly.FullName);

    private static OnnxTextEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => Load(env, ctx, GetVersionInfo(), nameof(OnnxTextEncoderTransformer), (host, model) =>
        {
            string? vocabText = null;
            bool found;
            try
            {
                found = ctx.TryLoadBinaryStream(VocabStreamName, reader => vocabText = reader.ReadString());
            }
            catch (Exception e) when (ModelEntry.IsReadFailure(e))
            {
                ThrowHelper.CorruptEntry(ctx, "the vocab ends before its saved length (the entry is truncated)", e, VocabStreamName);
                throw;
            }

            if (!found || vocabText == null)
            {
                ThrowHelper.CorruptEntry(ctx, "the vocab is missing: the model zip is truncated", stream: VocabStreamName);
            }

            byte[] vocab;
            try
            {
                vocab = Convert.FromBase64String(vocabText);
            }
            catch (FormatException e)
            {
                ThrowHelper.CorruptEntry(ctx, $"the vocab is not the base-64 text it was saved as: {e.Message}", e, VocabStreamName);
                throw;
            }

            if (vocab.Length == 0)
            {
                ThrowHelper.CorruptEntry(ctx, "the vocab is empty", stream: VocabStreamName);
            }

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
                config = TextEncoderConfig.Load(ctx);
            }

            ModelEntry.Check(ctx, config.Problem(model));
            return new OnnxTextEncoderTransformer(host, model, vocab, config);
        });

    private sealed class TextRow
    {
        public string? Text { get; set; }
    }
}
