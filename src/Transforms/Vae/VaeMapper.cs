using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// What every VAE transformer shares: the encoder and/or decoder sessions, the resolved <see cref="VaeConfig"/>, the added
/// columns, the checks of the input schema, batches, and persistence. The public transformers are thin shells over it.
/// </summary>
internal sealed partial class VaeMapper : IDisposable, ISessionMapper
{

    private readonly OnnxModel? _encoder;
    private readonly OnnxModel? _decoder;
    private readonly (string Name, VaeColumn Kind, DataViewType Type)[] _columns;
    private readonly OnnxColumnBinding? _image, _mean, _logVariance, _latent, _logits;

    private VaeMapper(IHost host, OnnxModel? encoder, OnnxModel? decoder, VaeConfig config, VaeMapper? background = null)
    {
        Host = host;
        _encoder = encoder;
        _decoder = decoder;
        Config = config;
        Background = background;
        if (encoder != null)
        {
            _image = VaeGraphs.Bind(encoder, config.InputColumnName ?? config.ImageTensorName, config.ImageTensorName, isInput: true);
            _mean = VaeGraphs.Bind(encoder, config.MeanTensorName, config.MeanTensorName, isInput: false);
            _logVariance = VaeGraphs.Bind(encoder, config.LogVarianceTensorName, config.LogVarianceTensorName, isInput: false);
        }

        if (decoder != null)
        {
            _latent = VaeGraphs.Bind(decoder, config.LatentInputColumnName ?? config.LatentTensorName, config.LatentTensorName, isInput: true);
            _logits = VaeGraphs.Bind(decoder, config.LogitsTensorName, config.LogitsTensorName, isInput: false);
        }

        _columns = Columns().ToArray();
    }

    /// <summary>The sessions (encoder, decoder, or both).</summary>
    public IReadOnlyList<OnnxModel> Models => _encoder != null && _decoder != null
        ? [_encoder, _decoder, .. Background?.Models ?? []] : [(_encoder ?? _decoder)!];

    /// <summary>A new mapper of the same config over sessions of the same graphs (<see cref="OnnxModel.Reopen"/>), disposed or not this one: an estimator's next <c>Fit</c>.</summary>
    public VaeMapper Reopen()
        => OnnxModel.ReopenAll([_encoder, _decoder], m => new VaeMapper(Host, m[0], m[1], Config, Background?.Reopen()));

    /// <summary>The kinds of column a VAE transformer adds.</summary>
    internal enum VaeColumn
    {
        Mean,
        LogVariance,
        Latent,
        Reconstruction,
        ReconstructionLogLikelihood,
        KlDivergence,
        Elbo,
        LogLikelihood,
        Score,
        PredictedLabel,
    }

    public IHost Host { get; }

    public VaeConfig Config { get; }

    public int BatchSize => Config.BatchSize;

    public OnnxExecutionProvider ExecutionProvider => (_encoder ?? _decoder)!.ExecutionProvider;

    public long RunCount => (_encoder?.RunCount ?? 0) + (_decoder?.RunCount ?? 0);

    /// <summary>Pixels (channels x height x width) of one image: the encoder's input and the decoder's output.</summary>
    public int ImageSize => (_image?.Tensor.RowElements ?? _logits?.Tensor.RowElements) ?? 0;

    /// <summary>The decoder output's row shape, e.g. (1, 28, 28).</summary>
    public int[] ReconstructionDims => _logits!.Tensor.RowDims;

    /// <summary>Noise vectors per row: the encoder's samples, or the scorer's importance samples (at least one).</summary>
    public int NoiseSamples => Config.ScoreColumnName != null || Config.ElboColumnName != null ? Math.Max(1, Config.ImportanceSamples) : Config.SampleCount;

    /// <summary>Loads the graphs <paramref name="sources"/> name, checks them against their manifests, and resolves the tensors and sizes.</summary>
    public static VaeMapper Create(IHostEnvironment env, string name, VaeModelSources sources, VaeConfig requested)
    {
        OnnxScoringTransformer.CheckBatchSize(requested.BatchSize);
        return VaeGraphs.OpenPair(env, name, "vae", sources, graphs => new VaeMapper(graphs.Host, graphs.Encoder, graphs.Decoder,
            Resolve(requested, graphs.Encoder, graphs.EncoderManifest, graphs.Decoder, graphs.DecoderManifest ?? graphs.EncoderManifest)));
    }

    /// <summary>The seed of the noise: the option, else the <c>MLContext</c>'s seed, else 0.</summary>
    public static int ResolveSeed(IHostEnvironment env, int? seed) => seed ?? (env as IHostEnvironmentInternal)?.Seed ?? 0;

    /// <summary>A mapper sharing this one's sessions (one more reference each) with another config (the anomaly detector's threshold).</summary>
    public VaeMapper WithConfig(VaeConfig config)
    {
        ThrowIfDisposed();
        OnnxModel? encoder = null, decoder = null;
        try
        {
            // The same sessions, one more reference each: the fitted transformer is disposed on its own.
            encoder = _encoder?.Share();
            decoder = _decoder?.Share();
            return new VaeMapper(Host, encoder, decoder, config, Background?.WithConfig(Background.Config));
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    /// <summary>The columns this mapper adds, in order.</summary>
    public DataViewSchema OutputColumnsSchema()
    {
        var builder = new DataViewSchema.Builder();
        foreach (var (name, _, type) in _columns)
        {
            builder.AddColumn(name, type);
        }

        return builder.ToSchema();
    }

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumns(OutputColumnsSchema());
        return builder.ToSchema();
    }

    /// <summary>The input columns plus the added ones, for an estimator's <c>GetOutputSchema</c>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => SchemaShapes.Extend(inputSchema, InputColumnTypes().Select(c => c.Type == null
        ? new ColumnRead(c.Column, SchemaShapes.IsImageOrPixels, ImageExpectation)
        : new ColumnRead(c.Column, SchemaShapes.IsAnySingleVector, $"a vector of {c.Type.Size} Single values")), SchemaShapes.Of(OutputColumnsSchema()));

    public IEnumerable<string> InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => InputColumnTypes().Select(c => c.Column);

    public IBatch CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, activeOutputs, capacity);

    public void ThrowIfDisposed() => (_encoder ?? _decoder)!.ThrowIfDisposed();

    public void Dispose()
    {
        _encoder?.Dispose();
        _decoder?.Dispose();
        Background?.Dispose();
    }

    /// <summary>Writes the graphs (each in a stream of its own) and the config.</summary>
    public void Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        VaeGraphs.SavePair(ctx, _encoder, _decoder);
        VaeConfigFormat.Write(ctx, Config, _encoder != null, _decoder != null);
    }

    /// <summary>Reads what <see cref="Save"/> wrote: in v2 the config field by field, in v1 as JSON, with its noise keyed by row position.</summary>
    public static VaeMapper Load(IHostEnvironment env, string name, ModelLoadContext ctx, VersionInfo version)
    {
        ctx.CheckAtModel(version);
        return VaeGraphs.LoadPair(env, name, ctx, (host, encoder, decoder) =>
        {
            var config = ctx.Header.ModelVerWritten >= VaeTransformer.FieldsVersion
                ? VaeConfigFormat.Read(ctx, encoder != null, decoder != null)
                : ModelEntry.Json(ctx, "VAE", VaeConfig.FromJson) with { NoiseKeyedByPosition = true };
            ModelEntry.Check(ctx, config.Problem(encoder, decoder));
            return new VaeMapper(host, encoder, decoder, config);
        });
    }

    private const string ImageExpectation = "an image (MLImage) or a Single vector of preprocessed pixels";

    /// <summary>The columns the mapper reads, with the vector type each must have (null: the image column).</summary>
    private IEnumerable<(string Column, VectorDataViewType? Type)> InputColumnTypes()
    {
        if (Config.InputColumnName != null)
        {
            yield return (Config.InputColumnName, null);
        }

        if (Config.LatentInputColumnName != null)
        {
            yield return (Config.LatentInputColumnName, new VectorDataViewType(NumberDataViewType.Single, Config.LatentSize));
        }

        if (Config.NoiseColumnName != null)
        {
            yield return (Config.NoiseColumnName, new VectorDataViewType(NumberDataViewType.Single, Config.LatentSize * NoiseSamples));
        }
    }

    private void CheckInput(DataViewSchema schema) => SchemaShapes.Check(schema, InputColumnTypes().Select(c => c.Type == null
        ? new ColumnTypeRead(c.Column, type => SchemaShapes.IsImageOrPixels(type, ImageSize), PixelsExpectation)
        : new ColumnTypeRead(c.Column, type => SchemaShapes.IsSingleVector(type, c.Type.Size, orUnknown: false),
            $"a vector of {c.Type.Size} Single values ({(c.Column == Config.NoiseColumnName ? "noise (latent size x samples)" : "the decoder's latent size")})")));

    private string PixelsExpectation
        => $"{ImageExpectation} ({ImageSize} values: {Config.Preprocessing!.Channels} x {Config.Preprocessing.Height} x {Config.Preprocessing.Width}, CHW, in the model's units)";

    private IEnumerable<(string, VaeColumn, DataViewType)> Columns()
    {
        var c = Config;
        var latent = new VectorDataViewType(NumberDataViewType.Single, c.LatentSize);
        (string?, VaeColumn, DataViewType?)[] all =
        {
            (c.MeanColumnName, VaeColumn.Mean, latent),
            (c.LogVarianceColumnName, VaeColumn.LogVariance, latent),
            (c.LatentColumnName, VaeColumn.Latent, c.SampleCount == 1 ? latent : new VectorDataViewType(NumberDataViewType.Single, c.SampleCount, c.LatentSize)),
            (c.ReconstructionColumnName, VaeColumn.Reconstruction, _logits != null ? new VectorDataViewType(NumberDataViewType.Single, _logits.Tensor.RowDims) : null),
            (c.ReconstructionLogLikelihoodColumnName, VaeColumn.ReconstructionLogLikelihood, NumberDataViewType.Single),
            (c.KlDivergenceColumnName, VaeColumn.KlDivergence, NumberDataViewType.Single),
            (c.ElboColumnName, VaeColumn.Elbo, NumberDataViewType.Single),
            (c.LogLikelihoodColumnName, VaeColumn.LogLikelihood, NumberDataViewType.Single),
            (c.ScoreColumnName, VaeColumn.Score, NumberDataViewType.Single),
            (c.PredictedLabelColumnName, VaeColumn.PredictedLabel, BooleanDataViewType.Instance),
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
