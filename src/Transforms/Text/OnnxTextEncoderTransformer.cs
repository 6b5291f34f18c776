using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
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
public sealed partial class OnnxTextEncoderTransformer : ITransformer, IDisposable, IBatchedMapper
{
    internal const string LoaderSignature = "MlNotesOnnxTextEncoder";
    private const string VocabStreamName = "Vocab";

    private readonly IHost _host;
    private readonly OnnxModel _model;
    private readonly byte[] _vocab;
    private readonly BertTokenizer _tokenizer;
    private readonly ReadOnlyMemory<char>[] _classNames;
    private long _truncated;

    internal OnnxTextEncoderTransformer(IHostEnvironment env, OnnxTextEncoderEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(OnnxTextEncoderTransformer));
        OnnxScoringTransformer.CheckBatchSize(options.BatchSize);
        if (options.SortWindow < 1)
        {
            ThrowHelper.BadOption(nameof(options.SortWindow), $"SortWindow must be at least 1 batch, got {options.SortWindow}.");
        }

        var manifest = options.ManifestFile != null ? ModelManifest.Load(options.ManifestFile) : ModelManifest.Beside(options.ModelFile);
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
            Config = Resolve(options, manifest, _model);
            _tokenizer = CreateTokenizer(_vocab, Config);
            _classNames = Config.ClassNames.Select(c => c.AsMemory()).ToArray();
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
    }

    /// <summary>A new transformer over the same session (one more reference to it), for another <c>Fit</c>: each is disposed on its own.</summary>
    internal OnnxTextEncoderTransformer Share() => new(_host, _model.Share(), _vocab, Config);

    /// <summary>Texts per ONNX Runtime run.</summary>
    public int BatchSize => Config.BatchSize;

    /// <summary>The embedding size.</summary>
    public int EmbeddingSize => Config.EmbeddingSize;

    /// <summary>Class names of a classifier graph, in its output order (empty for a pure encoder).</summary>
    public IReadOnlyList<string> ClassNames => Config.ClassNames;

    /// <summary>The execution provider the session actually runs on.</summary>
    public OnnxExecutionProvider ExecutionProvider => _model.ExecutionProvider;

    /// <summary>Texts cut to the maximum length so far (over every view and pass: a row read twice counts twice).</summary>
    public long TruncatedCount => Interlocked.Read(ref _truncated);

    /// <summary>True: <c>PredictionEngine</c> works.</summary>
    public bool IsRowToRowMapper => true;

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

    /// <summary>The input schema plus the encoder's columns.</summary>
    /// <param name="inputSchema">The schema of the data to encode.</param>
    /// <exception cref="ArgumentOutOfRangeException">The text column is missing or not text.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
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

    /// <summary>Encodes <paramref name="input"/> lazily, in batches.</summary>
    /// <param name="input">The data to encode.</param>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _model.ThrowIfDisposed();
        return new BatchedDataView(this, input);
    }

    /// <summary>A row-to-row mapper for <c>PredictionEngine</c>.</summary>
    /// <param name="inputSchema">The schema of the rows to map.</param>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        _model.ThrowIfDisposed();
        _model.AddOwner(); // released when the engine disposes this transformer
        return new BatchedRowMapper(this, inputSchema);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _model.Dispose();

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        _model.ThrowIfDisposed();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        _model.Save(ctx);
        ctx.SaveBinaryStream(VocabStreamName, writer => writer.Write(Convert.ToBase64String(_vocab)));
        ctx.SaveNonEmptyString(Config.ToJson());
    }

    IEnumerable<string> IBatchedMapper.InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => new[] { Config.InputColumnName };

    IBatch IBatchedMapper.CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, activeOutputs, capacity);

    void IBatchedMapper.ThrowIfDisposed() => _model.ThrowIfDisposed();

    internal DataViewSchema OutputColumnsSchema()
    {
        var c = Config;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(c.EmbeddingColumnName, new VectorDataViewType(NumberDataViewType.Single, c.EmbeddingSize));
        if (c.ScoreColumnName != null && c.PredictedLabelColumnName != null)
        {
            ClassificationOutputs.AddColumns(builder, c.ScoreColumnName, c.PredictedLabelColumnName, _classNames);
        }

        if (c.TokenEmbeddingsColumnName != null)
        {
            builder.AddColumn(c.TokenEmbeddingsColumnName, new VectorDataViewType(NumberDataViewType.Single));
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

    private static TextEncoderConfig Resolve(OnnxTextEncoderEstimator.Options o, ModelManifest? manifest, OnnxModel model)
    {
        string? Present(string? name, bool input) => name != null && (input ? model.InputMetadata : model.OutputMetadata).ContainsKey(name) ? name : null;
        string Require(string? name, bool input, string option)
        {
            var graph = input ? model.InputMetadata : model.OutputMetadata;
            if (name == null || !graph.ContainsKey(name))
            {
                return ThrowHelper.BadOption<string>(option,
                    $"The ONNX model {model.Name} has no {(input ? "input" : "output")} named '{name}' (its {(input ? "inputs" : "outputs")}: {string.Join(", ", graph.Keys)}).");
            }

            return name;
        }

        string inputIds = Require(o.InputIdsTensorName ?? manifest?.Role("input_ids") ?? "input_ids", true, nameof(o.InputIdsTensorName));
        string? mask = o.AttentionMaskTensorName != null ? Require(o.AttentionMaskTensorName, true, nameof(o.AttentionMaskTensorName)) : Present(manifest?.Role("attention_mask") ?? "attention_mask", true);
        string? types = o.TokenTypeIdsTensorName != null ? Require(o.TokenTypeIdsTensorName, true, nameof(o.TokenTypeIdsTensorName)) : Present(manifest?.Role("token_type_ids") ?? "token_type_ids", true);
        foreach (string input in model.InputMetadata.Keys)
        {
            if (input != inputIds && input != mask && input != types)
            {
                ThrowHelper.InvalidOperation($"The ONNX model {model.Name} has an input '{input}' that a text encoder does not feed (it feeds input ids, attention mask and token type ids).");
            }
        }

        string? hidden = o.HiddenStateTensorName != null ? Require(o.HiddenStateTensorName, false, nameof(o.HiddenStateTensorName)) : Present(manifest?.Role("last_hidden_state") ?? "last_hidden_state", false);
        // A graph without token states that names an embedding output (CLIP's text tower) pools inside the graph.
        string? pooled = o.PooledTensorName != null
            ? Require(o.PooledTensorName, false, nameof(o.PooledTensorName))
            : Present(manifest?.Pooling?.Output, false) ?? (hidden == null ? Present(manifest?.Role("embedding"), false) : null);
        string? logits = o.LogitsTensorName != null ? Require(o.LogitsTensorName, false, nameof(o.LogitsTensorName)) : Present(manifest?.Role("logits") ?? "logits", false);
        var pooling = o.Pooling ?? ParsePooling(manifest?.Pooling?.Kind, pooled != null);
        if (pooling == TextPooling.Graph && pooled == null)
        {
            pooling = TextPooling.Mean;
        }

        if (pooling != TextPooling.Graph && hidden == null)
        {
            ThrowHelper.BadOption(nameof(o.HiddenStateTensorName), $"Pooling {pooling} needs the token states: the ONNX model {model.Name} has no 'last_hidden_state' output; name it with HiddenStateTensorName.");
        }

        int embeddingSize = pooling == TextPooling.Graph ? LastDim(model.OutputMetadata[pooled!]) : LastDim(model.OutputMetadata[hidden!]);
        if (embeddingSize <= 0)
        {
            ThrowHelper.InvalidOperation($"The ONNX model {model.Name} leaves the embedding size dynamic: its last axis must be fixed.");
        }

        string[] classes = Array.Empty<string>();
        if (logits != null)
        {
            int count = LastDim(model.OutputMetadata[logits]);
            classes = o.ClassNames ?? manifest?.Labels ?? Enumerable.Range(0, Math.Max(count, 0)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            if (count <= 0 || classes.Length != count)
            {
                ThrowHelper.BadOption(nameof(o.ClassNames), $"The ONNX output '{logits}' of model {model.Name} gives {count} classes, but there are {classes.Length} class names.");
            }
        }

        var tokenizer = manifest?.Tokenizer;
        var special = tokenizer?.SpecialTokens;
        string Special(string key, string fallback) => special != null && special.TryGetValue(key, out string? token) ? token : fallback;
        int maxLength = o.MaxLength ?? tokenizer?.MaxLength ?? 512;
        if (maxLength < 2)
        {
            ThrowHelper.BadOption(nameof(o.MaxLength), $"MaxLength must leave room for [CLS] and [SEP]: at least 2, got {maxLength}.");
        }

        bool lower = o.LowerCase ?? tokenizer?.LowerCase ?? true;
        return new TextEncoderConfig
        {
            InputColumnName = o.InputColumnName,
            EmbeddingColumnName = o.EmbeddingColumnName,
            ScoreColumnName = logits != null ? o.ScoreColumnName : null,
            PredictedLabelColumnName = logits != null ? o.PredictedLabelColumnName : null,
            TokenEmbeddingsColumnName = hidden != null ? o.TokenEmbeddingsColumnName : null,
            InputIdsTensorName = inputIds,
            AttentionMaskTensorName = mask,
            TokenTypeIdsTensorName = types,
            HiddenStateTensorName = hidden,
            PooledTensorName = pooled,
            LogitsTensorName = logits,
            Pooling = pooling,
            Normalize = o.Normalize,
            MaxLength = maxLength,
            LowerCase = lower,
            StripAccents = tokenizer?.StripAccents ?? lower,
            TokenizeCjk = tokenizer?.TokenizeCjkChars ?? true,
            MaxCharsPerWord = tokenizer?.MaxCharsPerWord ?? 100,
            UnknownToken = Special("unk", "[UNK]"),
            ClsToken = Special("cls", "[CLS]"),
            SepToken = Special("sep", "[SEP]"),
            PadToken = Special("pad", "[PAD]"),
            MaskToken = Special("mask", "[MASK]"),
            ClassNames = classes,
            EmbeddingSize = embeddingSize,
            BatchSize = o.BatchSize,
            SortWindow = o.SortWindow,
        };
    }

    private static int LastDim(NodeMetadata metadata) => metadata.Dimensions.Length > 0 ? metadata.Dimensions[^1] : -1;

    private static TextPooling ParsePooling(string? kind, bool hasPooledOutput) => kind?.ToLowerInvariant() switch
    {
        _ when hasPooledOutput => TextPooling.Graph,
        "cls" => TextPooling.Cls,
        "masked-max" or "max" => TextPooling.Max,
        "mean-sqrt-len" or "mean_sqrt_len_tokens" => TextPooling.MeanSqrtLength,
        "end-of-text" or "eot" => TextPooling.EndOfText,
        _ => TextPooling.Mean,
    };

    /// <summary>
    /// The graph's embedding table must hold every id of the vocab. ONNX Runtime rejects an id past the table, so a probe
    /// with the vocab's last id tells; a binary search then finds the table's size for the message.
    /// </summary>
    private void CheckVocabFitsTheGraph(string vocabFile)
    {
        int vocabSize = Encoding.UTF8.GetString(_vocab).Split('\n').Count(line => line.TrimEnd('\r').Length > 0);
        if (Probe(vocabSize - 1))
        {
            return;
        }

        int low = 0, high = vocabSize - 1; // low works, high fails
        while (high - low > 1)
        {
            int mid = low + ((high - low) / 2);
            if (Probe(mid))
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        ThrowHelper.InvalidOperation(
            $"The vocab file '{vocabFile}' has {vocabSize} tokens, but the embedding table of the ONNX model {_model.Name} has {low + 1} rows: " +
            "this vocab does not belong to this graph.");

        bool Probe(int id)
        {
            var c = Config;
            var names = new List<string> { c.InputIdsTensorName };
            var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(new long[] { 0, id }, new long[] { 1, 2 }) };
            if (c.AttentionMaskTensorName != null)
            {
                names.Add(c.AttentionMaskTensorName);
                values.Add(OrtValue.CreateTensorValueFromMemory(new long[] { 1, 1 }, new long[] { 1, 2 }));
            }

            if (c.TokenTypeIdsTensorName != null)
            {
                names.Add(c.TokenTypeIdsTensorName);
                values.Add(OrtValue.CreateTensorValueFromMemory(new long[] { 0, 0 }, new long[] { 1, 2 }));
            }

            try
            {
                using var options = new RunOptions();
                using var results = _model.Session.Run(options, names, values, new[] { _model.OutputMetadata.Keys.First() });
                return true;
            }
            catch (OnnxRuntimeException)
            {
                return false;
            }
            finally
            {
                values.ForEach(v => v.Dispose());
            }
        }
    }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "MLNTXTEN",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(OnnxTextEncoderTransformer).Assembly.FullName);

    private static OnnxTextEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ctx.CheckAtModel(GetVersionInfo());
        var host = env.Register(nameof(OnnxTextEncoderTransformer));
        var model = OnnxModel.Load(env, host, ctx);
        try
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

            var config = ModelEntry.Json(ctx, "text encoder", TextEncoderConfig.FromJson);
            ModelEntry.Check(ctx, config.Problem(model));
            return new OnnxTextEncoderTransformer(host, model, vocab, config);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private sealed class TextRow
    {
        public string? Text { get; set; }
    }
}
