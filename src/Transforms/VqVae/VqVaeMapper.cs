using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.VqVae;

/// <summary>
/// What the VQ-VAE transformers share: the encoder and/or decoder sessions, the codebook, the resolved <see cref="VqVaeConfig"/>,
/// the added columns, the checks of the input schema, batches (<see cref="Batch"/>) and persistence.
/// </summary>
internal sealed partial class VqVaeMapper : IDisposable, ISessionMapper
{
    private const string ImageExpectation = "an image (MLImage) or a Single vector of preprocessed pixels";

    private readonly OnnxModel? _encoder;
    private readonly OnnxModel? _decoder;
    private readonly (string Name, VqColumn Kind, DataViewType Type)[] _columns;
    private readonly OnnxColumnBinding? _image, _latents, _codes, _reconstruction;

    private VqVaeMapper(IHost host, OnnxModel? encoder, OnnxModel? decoder, VqVaeConfig config)
    {
        Host = host;
        _encoder = encoder;
        _decoder = decoder;
        Config = config;
        if (encoder != null)
        {
            _image = VaeGraphs.Bind(encoder, config.InputColumnName!, config.ImageTensorName, isInput: true);
            _latents = VaeGraphs.Bind(encoder, config.LatentsTensorName, config.LatentsTensorName, isInput: false);
        }

        if (decoder != null)
        {
            _codes = VaeGraphs.Bind(decoder, config.CodesInputColumnName ?? config.CodesTensorName, config.CodesTensorName, isInput: true);
            _reconstruction = VaeGraphs.Bind(decoder, config.ReconstructionTensorName, config.ReconstructionTensorName, isInput: false);
        }

        _columns = Columns().ToArray();
    }

    /// <summary>The kinds of column a VQ-VAE transformer adds.</summary>
    internal enum VqColumn
    {
        Codes,
        CodeVectors,
        Reconstruction,
        ReconstructionError,
        Latents,
    }

    public IHost Host { get; }

    public VqVaeConfig Config { get; }

    public int BatchSize => Config.BatchSize;

    public IReadOnlyList<OnnxModel> Models => _encoder != null && _decoder != null ? [_encoder, _decoder] : [(_encoder ?? _decoder)!];

    /// <summary>Pixels (channels x height x width) of one image: the encoder's input and the decoder's output.</summary>
    public int ImageSize => (_image?.Tensor.RowElements ?? _reconstruction?.Tensor.RowElements) ?? 0;

    /// <summary>The type of a codes column: one key per grid position, key count the codebook size.</summary>
    public VectorDataViewType CodesType => new(new KeyDataViewType(typeof(uint), Config.CodebookSize), Config.Positions);

    /// <summary>
    /// What an estimator builds: refuses options under which the transform would add no column (naming them), then opens and
    /// checks the graphs.
    /// </summary>
    /// <param name="env">The host environment.</param>
    /// <param name="name">The estimator's name (the host's).</param>
    /// <param name="sources">The graphs and the manifest.</param>
    /// <param name="config">The columns and batch size the options ask for.</param>
    /// <param name="addedColumnOptions">The estimator's options that name added columns, the one reported first.</param>
    public static VqVaeTransformer Estimate(IHostEnvironment env, string name, VaeModelSources sources, VqVaeConfig config, params string[] addedColumnOptions)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (config.CodesColumnName == null && config.CodeVectorsColumnName == null && config.LatentsColumnName == null
            && config.ReconstructionColumnName == null && config.ReconstructionErrorColumnName == null)
        {
            ThrowHelper.BadOption(addedColumnOptions[0], $"{string.Join(", ", addedColumnOptions.Order(StringComparer.Ordinal))} are all null: the transform would add nothing.");
        }

        return new VqVaeTransformer(Create(env, name, sources, config));
    }

    /// <summary>Loads the graphs <paramref name="sources"/> name, checks them against their manifests, and resolves tensors, grid and codebook.</summary>
    public static VqVaeMapper Create(IHostEnvironment env, string name, VaeModelSources sources, VqVaeConfig requested)
    {
        OnnxScoringTransformer.CheckBatchSize(requested.BatchSize);
        return VaeGraphs.OpenPair(env, name, "vqvae", sources, graphs =>
        {
            var config = Resolve(requested, graphs.Encoder, graphs.EncoderManifest, graphs.Decoder, graphs.DecoderManifest);
            if (config.Problem(graphs.Encoder, graphs.Decoder) is { } problem)
            {
                ThrowHelper.InvalidOperation($"The VQ-VAE graphs and manifest ({(graphs.Encoder ?? graphs.Decoder)!.Name}) do not fit: {problem}.");
            }

            return new VqVaeMapper(graphs.Host, graphs.Encoder, graphs.Decoder, config);
        });
    }

    /// <summary>A new mapper of the same config over sessions of the same graphs (<see cref="OnnxModel.Reopen"/>): an estimator's next <c>Fit</c>.</summary>
    public VqVaeMapper Reopen()
        => OnnxModel.ReopenAll([_encoder, _decoder], m => new VqVaeMapper(Host, m[0], m[1], Config));

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var (name, _, type) in _columns)
        {
            builder.AddColumn(name, type);
        }

        return builder.ToSchema();
    }

    /// <summary>The input columns plus the added ones, for an estimator's <c>GetOutputSchema</c>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => SchemaShapes.Extend(inputSchema, InputColumnNames().Select(column => column == Config.InputColumnName
        ? new ColumnRead(column, SchemaShapes.IsImageOrPixels, ImageExpectation)
        : new ColumnRead(column, shape => shape.Kind == SchemaShape.Column.VectorKind.Vector && shape.IsKey && shape.ItemType.RawType == typeof(uint), CodesExpectation)),
        SchemaShapes.Of(_columns.Select(c => new DataViewSchema.DetachedColumn(c.Name, c.Type))));

    public IEnumerable<string> InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => InputColumnNames();

    public IBatch CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, activeOutputs, capacity);

    public void ThrowIfDisposed() => (_encoder ?? _decoder)!.ThrowIfDisposed();

    public void Dispose()
    {
        _encoder?.Dispose();
        _decoder?.Dispose();
    }

    /// <summary>Writes the graphs (each in a stream of its own) and the config, codebook included.</summary>
    public void Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        VaeGraphs.SavePair(ctx, _encoder, _decoder);
        Config.Write(ctx, _encoder != null, _decoder != null);
    }

    /// <summary>Reads what <see cref="Save"/> wrote, and checks the config against the graphs.</summary>
    public static VqVaeMapper Load(IHostEnvironment env, string name, ModelLoadContext ctx, VersionInfo version)
    {
        ctx.CheckAtModel(version);
        return VaeGraphs.LoadPair(env, name, ctx, (host, encoder, decoder) =>
        {
            var config = VqVaeConfig.Read(ctx, encoder != null, decoder != null);
            ModelEntry.Check(ctx, config.Problem(encoder, decoder));
            return new VqVaeMapper(host, encoder, decoder, config);
        });
    }

    private string CodesExpectation => $"a vector of {Config.Positions} keys (UInt32, key count {Config.CodebookSize}): one code per grid position";

    private IEnumerable<string> InputColumnNames() => new[] { Config.InputColumnName, Config.CodesInputColumnName }.Where(c => c != null)!;

    private void CheckInput(DataViewSchema schema) => SchemaShapes.Check(schema, InputColumnNames().Select(name => name == Config.InputColumnName
        ? new ColumnTypeRead(name, type => SchemaShapes.IsImageOrPixels(type, ImageSize),
            $"{ImageExpectation} ({ImageSize} values: {Config.Preprocessing!.Channels} x {Config.Preprocessing.Height} x {Config.Preprocessing.Width}, CHW, in the model's units)")
        : new ColumnTypeRead(name, type => type is VectorDataViewType { ItemType: KeyDataViewType key } vector && key.RawType == typeof(uint)
            && (ulong)Config.CodebookSize == key.Count && (vector.Size == 0 || vector.Size == Config.Positions), CodesExpectation)));

    private IEnumerable<(string, VqColumn, DataViewType)> Columns()
    {
        var c = Config;
        (string?, VqColumn, DataViewType?)[] all =
        {
            (c.CodesColumnName, VqColumn.Codes, CodesType),
            (c.CodeVectorsColumnName, VqColumn.CodeVectors, new VectorDataViewType(NumberDataViewType.Single, c.GridHeight, c.GridWidth, c.CodeSize)),
            (c.ReconstructionColumnName, VqColumn.Reconstruction, _reconstruction != null ? new VectorDataViewType(NumberDataViewType.Single, _reconstruction.Tensor.RowDims) : null),
            (c.ReconstructionErrorColumnName, VqColumn.ReconstructionError, NumberDataViewType.Single),
            (c.LatentsColumnName, VqColumn.Latents, new VectorDataViewType(NumberDataViewType.Single, c.GridHeight, c.GridWidth, c.CodeSize)),
        };
        foreach (var (name, kind, type) in all)
        {
            if (name != null && type != null)
            {
                yield return (name, kind, type);
            }
        }
    }
}
