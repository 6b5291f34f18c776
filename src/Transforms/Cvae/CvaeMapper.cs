using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;

namespace MlNotes.Transforms.Cvae;

/// <summary>
/// What the CVAE transformers share: the sessions (the decoder, and the encoder but for generation), the resolved
/// <see cref="CvaeConfig"/>, the added columns, the input checks, batches and persistence.
/// </summary>
internal sealed partial class CvaeMapper : IDisposable, ISessionMapper
{
    private const string ImageExpectation = "an image (MLImage) or a Single vector of preprocessed pixels";
    private const string LabelExpectation = "a class index (Int32, Int64, UInt32 or Single) or a key over the classes";

    private readonly OnnxModel? _encoder;
    private readonly OnnxModel _decoder;
    private readonly DataViewSchema.DetachedColumn[] _columns;
    private readonly OnnxColumnBinding? _image, _encoderLabel, _mean, _logVariance;
    private readonly OnnxColumnBinding _latent, _decoderLabel, _logits;

    private CvaeMapper(IHost host, OnnxModel? encoder, OnnxModel decoder, CvaeConfig config)
    {
        Host = host;
        _encoder = encoder;
        _decoder = decoder;
        Config = config;
        if (encoder != null)
        {
            _image = VaeGraphs.Bind(encoder, config.ImageTensorName!, config.ImageTensorName!, isInput: true);
            _encoderLabel = VaeGraphs.Bind(encoder, config.EncoderLabelTensorName!, config.EncoderLabelTensorName!, isInput: true);
            _mean = VaeGraphs.Bind(encoder, config.MeanTensorName!, config.MeanTensorName!, isInput: false);
            _logVariance = VaeGraphs.Bind(encoder, config.LogVarianceTensorName!, config.LogVarianceTensorName!, isInput: false);
        }

        _latent = VaeGraphs.Bind(decoder, config.LatentTensorName!, config.LatentTensorName!, isInput: true);
        _decoderLabel = VaeGraphs.Bind(decoder, config.DecoderLabelTensorName!, config.DecoderLabelTensorName!, isInput: true);
        _logits = VaeGraphs.Bind(decoder, config.LogitsTensorName!, config.LogitsTensorName!, isInput: false);
        _columns = Columns().ToArray();
    }

    public IHost Host { get; }

    public CvaeConfig Config { get; }

    public int BatchSize => Config.BatchSize;

    public int ClassCount => Config.ClassNames.Length;

    /// <summary>Pixels of one image (the decoder's output).</summary>
    public int ImageSize => _logits.Tensor.RowElements;

    public IReadOnlyList<OnnxModel> Models => _encoder != null ? [_encoder, _decoder] : [_decoder];

    /// <summary>Loads the graphs, checks them against their manifests and resolves tensors, sizes, classes and priors.</summary>
    public static CvaeMapper Create(IHostEnvironment env, string name, VaeModelSources sources, CvaeConfig requested, float[]? priors)
    {
        OnnxScoringTransformer.CheckBatchSize(requested.BatchSize);
        return VaeGraphs.OpenPair(env, name, "cvae", sources with { NeedsEncoder = requested.NeedsEncoder, NeedsDecoder = true }, graphs => new CvaeMapper(graphs.Host, graphs.Encoder, graphs.Decoder!,
            Resolve(requested, graphs.Encoder, graphs.EncoderManifest, graphs.Decoder!, graphs.DecoderManifest ?? graphs.EncoderManifest, priors)));
    }

    /// <summary>A new mapper of the same config over sessions of the same graphs (<see cref="OnnxModel.Reopen"/>): an estimator's next <c>Fit</c>.</summary>
    public CvaeMapper Reopen()
        => OnnxModel.ReopenAll([_encoder, _decoder], m => new CvaeMapper(Host, m[0], m[1]!, Config));

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumns(_columns);
        return builder.ToSchema();
    }

    /// <summary>The input columns plus the added ones, for an estimator's <c>GetOutputSchema</c>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => SchemaShapes.Extend(inputSchema, InputColumnKinds().Select(c => new ColumnRead(c.Column, shape => Accepts(c.Kind, shape), Expectation(c.Kind))), SchemaShapes.Of(_columns));

    public IEnumerable<string> InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => InputColumnKinds().Select(c => c.Column);

    public IBatch CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, capacity);

    public void ThrowIfDisposed() => _decoder.ThrowIfDisposed();

    public void Dispose()
    {
        _encoder?.Dispose();
        _decoder.Dispose();
    }

    /// <summary>Writes whether there is an encoder, the graphs (each in a stream of its own) and the config.</summary>
    public void Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        ctx.Writer.Write(_encoder != null);
        _encoder?.Save(ctx, VaeGraphs.EncoderStream);
        _decoder.Save(ctx, VaeGraphs.DecoderStream);
        Config.Write(ctx);
    }

    /// <summary>Reads what <see cref="Save"/> wrote, checking the config against the saved graphs.</summary>
    public static CvaeMapper Load(IHostEnvironment env, string name, ModelLoadContext ctx, VersionInfo version)
    {
        ctx.CheckAtModel(version);
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(name);
        bool hasEncoder = ModelEntry.Read(ctx, ctx.Reader.ReadBoolean);
        return OnnxModel.LoadAll(env, host, ctx, new[] { hasEncoder ? VaeGraphs.EncoderStream : null, VaeGraphs.DecoderStream }, models =>
        {
            var config = CvaeConfig.Read(ctx);
            ModelEntry.Check(ctx, config.Problem(models[0], models[1]!));
            return new CvaeMapper(host, models[0], models[1]!, config);
        });
    }

    private enum InputKind
    {
        Image,
        Label,
        Noise,
    }

    private static bool Accepts(InputKind kind, SchemaShape.Column shape) => kind switch
    {
        InputKind.Image => shape.ItemType is ImageDataViewType || SchemaShapes.IsAnySingleVector(shape),
        InputKind.Label => shape.Kind == SchemaShape.Column.VectorKind.Scalar && IsLabelType(shape.ItemType),
        _ => SchemaShapes.IsAnySingleVector(shape),
    };

    private static bool IsLabelType(DataViewType type)
        => type is KeyDataViewType || type == NumberDataViewType.Int32 || type == NumberDataViewType.Int64 || type == NumberDataViewType.UInt32 || type == NumberDataViewType.Single;

    private string Expectation(InputKind kind) => kind switch
    {
        InputKind.Image => $"{ImageExpectation} ({ImageSize} values, CHW, in the model's units)",
        InputKind.Label => $"{LabelExpectation} ({ClassCount} classes: 0 to {ClassCount - 1}, or keys 1 to {ClassCount})",
        _ => $"a vector of {Config.LatentSize} Single values (standard normal noise, the latent size)",
    };

    private IEnumerable<(string Column, InputKind Kind)> InputColumnKinds()
    {
        var c = Config;
        if (c.Mode != CvaeMode.Generate)
        {
            yield return (c.InputColumnName!, InputKind.Image);
        }

        if (c.Mode != CvaeMode.Classify)
        {
            yield return (c.LabelColumnName!, InputKind.Label);
        }

        if (c.NoiseColumnName != null)
        {
            yield return (c.NoiseColumnName, InputKind.Noise);
        }
    }

    private void CheckInput(DataViewSchema schema) => SchemaShapes.Check(schema, InputColumnKinds().Select(c => new ColumnTypeRead(c.Column, type => c.Kind switch
    {
        InputKind.Image => SchemaShapes.IsImageOrPixels(type, ImageSize),
        InputKind.Label => IsLabelType(type) && (type is not KeyDataViewType key || key.Count == (ulong)ClassCount),
        _ => SchemaShapes.IsSingleVector(type, Config.LatentSize, orUnknown: false),
    }, Expectation(c.Kind))));

    private IEnumerable<DataViewSchema.DetachedColumn> Columns()
    {
        var c = Config;
        var single = NumberDataViewType.Single;
        if (c.GeneratedImageColumnName != null)
        {
            yield return new DataViewSchema.DetachedColumn(c.GeneratedImageColumnName, new VectorDataViewType(single, _logits.Tensor.RowDims));
        }

        foreach (string? name in new[] { c.ReconstructionLogLikelihoodColumnName, c.KlDivergenceColumnName, c.ElboColumnName })
        {
            if (name != null)
            {
                yield return new DataViewSchema.DetachedColumn(name, single);
            }
        }

        if (c.ScoreColumnName != null)
        {
            foreach (var column in ClassificationOutputs.Columns(c.ScoreColumnName, c.PredictedLabelColumnName!, c.ClassNames.Select(n => n.AsMemory()).ToArray()))
            {
                yield return column;
            }
        }
    }
}
