using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Generation;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(SequenceGeneratorTransformer), null, typeof(SignatureLoadModel),
    "MlNotes ONNX sequence generator", SequenceGeneratorTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Generation;

/// <summary>
/// The transformer of <see cref="SequenceGeneratorEstimator"/>: encodes each batch of texts once, then runs the decoder step by
/// step for all its rows together with a key/value cache, each row stopping at its own end-of-sequence. Holds two native
/// sessions (encoder and decoder): dispose it. Saved models carry both graphs and the manifest (vocabularies included).
/// </summary>
public sealed partial class SequenceGeneratorTransformer : OnnxTransformerBase, IOnnxMapper
{
    internal const string LoaderSignature = "MlNotesSequenceGenerator";
    private const string EncoderStream = "EncoderOnnxModel";
    private const string DecoderStream = "DecoderOnnxModel";
    private const string ManifestStream = "Manifest";

    private readonly IHost _host;
    private readonly OnnxModel? _encoder;
    private readonly OnnxModel _decoder;
    private readonly GenerationGraph _graph;
    private readonly (string Name, DataViewType Type)[] _columns;

    private SequenceGeneratorTransformer(IHost host, GenerationGraph graph, GenerationConfig config, OnnxModel? encoder, OnnxModel decoder)
    {
        _host = host;
        _graph = graph;
        Config = config;
        _encoder = encoder;
        _decoder = decoder;
        var columns = new List<(string, DataViewType)>
        {
            (config.TextColumnName, TextDataViewType.Instance),
            (config.TokensColumnName, new VectorDataViewType(NumberDataViewType.Int32)),
            (config.ScoreColumnName, NumberDataViewType.Single),
            (config.FinishedColumnName, BooleanDataViewType.Instance),
        };
        if (config.NBest > 1)
        {
            columns.Add((config.NBestTextsColumnName, new VectorDataViewType(TextDataViewType.Instance, config.NBest)));
            columns.Add((config.NBestScoresColumnName, new VectorDataViewType(NumberDataViewType.Single, config.NBest)));
        }

        _columns = columns.ToArray();
    }

    /// <summary>How the next token is chosen.</summary>
    public GenerationStrategy Strategy => Config.Strategy;

    /// <summary>Hypotheses per row (1 unless beam search).</summary>
    public int BeamWidth => Config.BeamWidth;

    /// <summary>Generated tokens per row at most, end-of-sequence included.</summary>
    public int MaxNewTokens => Config.MaxNewTokens;

    /// <summary>Rows generated together.</summary>
    public int BatchSize => Config.BatchSize;

    /// <summary>The target vocabulary, by token id (the special tokens first).</summary>
    public IReadOnlyList<string> TargetSymbols => _graph.TargetSymbols;

    internal GenerationConfig Config { get; }

    internal long DecoderRunCount => _decoder.RunCount;

    internal override IReadOnlyList<OnnxModel> Sessions => _encoder != null ? [_encoder, _decoder] : [_decoder];

    internal override IOnnxMapper BatchedMapper => this;

    private protected override VersionInfo Version => GetVersionInfo();

    int IBatchedMapper.BatchSize => Config.BatchSize;

    internal static SequenceGeneratorTransformer Create(IHost host, GenerationGraph graph, GenerationConfig config, byte[]? encoderBytes, string encoderName, byte[] decoderBytes, string decoderName, OnnxExecutionSettings settings, bool fromSavedModel)
    {
        OnnxModel? encoder = null, decoder = null;
        try
        {
            encoder = encoderBytes != null ? OnnxModel.Create(host, encoderBytes, encoderName, settings, fromSavedModel) : null;
            decoder = OnnxModel.Create(host, decoderBytes, decoderName, settings, fromSavedModel);
            graph.Bind(encoder, decoder);
            return new SequenceGeneratorTransformer(host, graph, config, encoder, decoder);
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    internal override OnnxTransformerBase Reopen() => OnnxModel.ReopenAll([_encoder, _decoder], m =>
    {
        var graph = GenerationGraph.Parse(_graph.Json, _graph.Source);
        graph.Bind(m[0], m[1]!);
        return new SequenceGeneratorTransformer(_host, graph, Config, m[0], m[1]!);
    });

    internal DataViewSchema OutputColumnsSchema()
    {
        var builder = new DataViewSchema.Builder();
        foreach (var (name, type) in _columns)
        {
            builder.AddColumn(name, type);
        }

        return builder.ToSchema();
    }

    DataViewSchema IBatchedMapper.GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShapes.Check(inputSchema, [new ColumnTypeRead(Config.InputColumnName, IsInputType, InputTypes)]);
        return SchemaShapes.Append(inputSchema, OutputColumnsSchema());
    }

    SchemaShape IOnnxMapper.GetOutputSchema(SchemaShape inputSchema)
    {
        static bool Accepts(SchemaShape.Column input)
            => (input.Kind == SchemaShape.Column.VectorKind.Scalar && input.ItemType is TextDataViewType)
            || (input.Kind != SchemaShape.Column.VectorKind.Scalar && (input.ItemType == NumberDataViewType.Int32 || input.ItemType == NumberDataViewType.Int64));
        return SchemaShapes.Extend(inputSchema, [new ColumnRead(Config.InputColumnName, Accepts, InputTypes)], SchemaShapes.Of(OutputColumnsSchema()));
    }

    IEnumerable<string> IBatchedMapper.InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => [Config.InputColumnName];

    IBatch IBatchedMapper.CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, capacity);

    void IBatchedMapper.ThrowIfDisposed() => ThrowIfDisposed();

    internal const string InputTypes = "String, or a vector of Int32 or Int64 (token ids)";

    internal static bool IsInputType(DataViewType type)
        => type is TextDataViewType || (type is VectorDataViewType v && (v.ItemType == NumberDataViewType.Int32 || v.ItemType == NumberDataViewType.Int64));

    internal bool HasEncoder => _graph.HasEncoder;

    /// <summary>
    /// The source token ids of <paramref name="text"/>, checked: end-of-sequence appended (encoder-decoder) or start-of-sequence
    /// prepended (decoder-only); <paramref name="position"/> names the row in errors.
    /// </summary>
    internal int[] EncodeSource(ReadOnlySpan<char> text, long position)
    {
        CheckLength(text.Length, position, "characters");
        int first = _graph.HasEncoder ? 0 : 1;
        var ids = new int[text.Length + 1];
        for (int i = 0; i < text.Length; i++)
        {
            int id = _graph.SourceId(text[i]);
            if (id < 0)
            {
                if (Config.RefuseUnknownSymbols)
                {
                    throw new InvalidOperationException(
                        $"The text in column '{Config.InputColumnName}' at row {position} has the character '{text[i]}' (U+{(int)text[i]:X4}) at index {i}, which is not among the model's source symbols ({string.Concat(_graph.SourceSymbols.Where(s => s.Length == 1))}); RefuseUnknownSymbols is set.");
                }

                id = _graph.UnkId;
            }

            ids[first + i] = id;
        }

        ids[_graph.HasEncoder ? ^1 : 0] = _graph.HasEncoder ? _graph.EosId : _graph.BosId;
        return ids;
    }

    /// <summary>The source of token ids given as they are (special tokens other than the unknown one refused), as <see cref="EncodeSource"/> frames them.</summary>
    internal int[] EncodeIds(ReadOnlySpan<long> tokens, long position)
    {
        CheckLength(tokens.Length, position, "token ids");
        int first = _graph.HasEncoder ? 0 : 1;
        var ids = new int[tokens.Length + 1];
        for (int i = 0; i < tokens.Length; i++)
        {
            long id = tokens[i];
            if (id < 0 || id >= _graph.SourceSymbols.Length || id == _graph.PadId || id == _graph.BosId || id == _graph.EosId)
            {
                throw new InvalidOperationException(
                    $"The token ids in column '{Config.InputColumnName}' at row {position} have {id} at index {i}: expected a source symbol id, 0 to {_graph.SourceSymbols.Length - 1} other than pad {_graph.PadId}, start {_graph.BosId} and end {_graph.EosId} of the manifest {_graph.Source}.");
            }

            ids[first + i] = (int)id;
        }

        ids[_graph.HasEncoder ? ^1 : 0] = _graph.HasEncoder ? _graph.EosId : _graph.BosId;
        return ids;
    }

    private void CheckLength(int length, long position, string what)
    {
        if (length > _graph.MaxSourceLength - 1)
        {
            string framing = _graph.HasEncoder ? "end-of-sequence" : "start-of-sequence";
            throw new InvalidOperationException(
                $"The {(what == "characters" ? "text" : "token ids")} in column '{Config.InputColumnName}' at row {position} has {length} {what}: the model reads at most {_graph.MaxSourceLength - 1} (the manifest's source.max_length {_graph.MaxSourceLength}, {framing} included).");
        }
    }

    internal string Decode(int[] tokens) => string.Join(_graph.Separator, tokens.Select(t => _graph.TargetSymbols[t]));

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        _encoder?.Save(ctx, EncoderStream); // a decoder-only generator has no encoder stream
        _decoder.Save(ctx, DecoderStream);
        ctx.SaveBinaryStream(ManifestStream, writer =>
        {
            writer.Write(_graph.Source);
            writer.Write(_graph.Json);
        });
        Config.Save(ctx);
    }

    // v1: two graphs, the manifest's text, the config field by field
    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNSEQGN", LoaderSignature);

    private static SequenceGeneratorTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        var host = env.Register(nameof(SequenceGeneratorTransformer));
        OnnxModel? encoder = null, decoder = null;
        try
        {
            // The manifest first (its own stream): it says whether an encoder graph was saved before the decoder's.
            string? source = null, json = null;
            bool found;
            try
            {
                found = ctx.TryLoadBinaryStream(ManifestStream, reader =>
                {
                    source = reader.ReadString();
                    json = reader.ReadString();
                });
            }
            catch (Exception e) when (ModelEntry.IsReadFailure(e))
            {
                ThrowHelper.CorruptEntry(ctx, "the manifest ends before its saved length (the entry is truncated)", e, ManifestStream);
                throw;
            }

            if (!found || source == null || json == null)
            {
                ThrowHelper.CorruptEntry(ctx, "the manifest is missing: the model zip is truncated", stream: ManifestStream);
            }

            GenerationGraph graph = ParseSaved(ctx, json, source);
            encoder = graph.HasEncoder ? OnnxModel.Load(env, host, ctx, EncoderStream) : null;
            decoder = OnnxModel.Load(env, host, ctx, DecoderStream);
            try
            {
                graph.Bind(encoder, decoder);
            }
            catch (Exception e) when (e is FormatException or NotSupportedException)
            {
                ThrowHelper.CorruptEntry(ctx, $"the saved manifest does not fit the saved graphs: {e.Message}", e, ManifestStream);
                throw;
            }

            var config = ModelEntry.Read(ctx, () => GenerationConfig.Load(ctx));
            ModelEntry.Check(ctx, config.Problem(graph));
            return new SequenceGeneratorTransformer(host, graph, config, encoder, decoder);
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    private static GenerationGraph ParseSaved(ModelLoadContext ctx, string json, string source)
    {
        try
        {
            return GenerationGraph.Parse(json, source);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException)
        {
            ThrowHelper.CorruptEntry(ctx, $"the saved manifest cannot be read: {e.Message}", e, ManifestStream);
            throw;
        }
    }
}
