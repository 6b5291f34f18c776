using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

[assembly: LoadableClass(typeof(OnnxImageEncoderTransformer), null, typeof(SignatureLoadModel),
    "MlNotes ONNX image encoder", OnnxImageEncoderTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The transformer of <see cref="OnnxImageEncoderEstimator"/>: preprocesses images as the model was trained, scores them in
/// batches and adds their (L2-normalized) embedding. Holds a native session: dispose it.
/// </summary>
public sealed partial class OnnxImageEncoderTransformer : OnnxTransformerBase
{
    internal const string LoaderSignature = "MlNotesOnnxImageEnc";

    private readonly IHost _host;
    private readonly OnnxModel _model;
    private readonly OnnxColumnBinding _image;
    private readonly OnnxColumnBinding _embedding;
    private readonly ImageMapper _mapper;
    private readonly ImageEmbeddingShape _shape;

    internal OnnxImageEncoderTransformer(IHostEnvironment env, OnnxImageEncoderEstimator.Options options)
        : this(Open(env, options))
    {
        ImageInput.LogFixedBatch(_host, _image, Config.BatchSize, _model.Name);
    }

    private OnnxImageEncoderTransformer((IHost Host, OnnxModel Model, ImageEncoderConfig Config) opened)
        : this(opened.Host, opened.Model, opened.Config)
    {
    }

    private OnnxImageEncoderTransformer(IHost host, OnnxModel model, ImageEncoderConfig config)
    {
        _host = host;
        _model = model;
        Config = config;
        (_image, _embedding, var input, _shape) = Bind(config, model);
        _mapper = CreateMapper(input);
    }

    internal override IReadOnlyList<OnnxModel> Sessions => [_model];

    internal override IOnnxMapper BatchedMapper => _mapper;

    private protected override VersionInfo Version => GetVersionInfo();

    internal override OnnxTransformerBase Reopen() => new OnnxImageEncoderTransformer(_host, _model.Reopen(), Config);

    /// <summary>The embedding size.</summary>
    public int EmbeddingSize => _shape.Size;

    /// <summary>Images per ONNX Runtime run.</summary>
    public int BatchSize => Config.BatchSize;

    /// <summary>Rows whose image could not be read so far (with <c>ContinueOnError</c>), over every view and pass: a row read twice counts twice.</summary>
    public long ErrorCount => _mapper.ErrorCount;

    /// <summary>
    /// Returns <see cref="ErrorCount"/> and sets it back to 0, so that a job can count one pass over its data (the count is
    /// cumulative over every view, cursor and pass of this transformer, including the ones an evaluator or a cache makes).
    /// </summary>
    /// <returns>The count before the reset.</returns>
    public long ResetErrorCount() => _mapper.ResetErrorCount();

    internal ImageEncoderConfig Config { get; }

    internal long RunCount => _model.RunCount;


    private protected override void SaveModel(ModelSaveContext ctx)
    {
        _model.Save(ctx);
        Config.Save(ctx);
    }


    private static ImageEncoderConfig Resolve(OnnxImageEncoderEstimator.Options o, ModelManifest? manifest, OnnxModel model)
    {
        string imageTensor = ImageInput.ResolveImageTensor(o, manifest, model);
        string embeddingTensor = o.EmbeddingTensorName ?? manifest?.Role("embedding")
            ?? (model.OutputMetadata.Count == 1
                ? model.OutputMetadata.Keys.Single()
                : ThrowHelper.BadOption<string>(nameof(o.EmbeddingTensorName), $"The ONNX model {model.Name} has {model.OutputMetadata.Count} outputs ({string.Join(", ", model.OutputMetadata.Keys)}): name the embedding one with EmbeddingTensorName."));
        if (!model.OutputMetadata.TryGetValue(embeddingTensor, out var meta))
        {
            return ThrowHelper.BadOption<ImageEncoderConfig>(nameof(o.EmbeddingTensorName), $"The ONNX model {model.Name} has no output named '{embeddingTensor}' (its outputs: {string.Join(", ", model.OutputMetadata.Keys)}).");
        }

        var pooling = ImageEmbeddingShape.PoolingOf(o.TokenPooling, manifest);
        _ = ImageEmbeddingShape.Resolve(embeddingTensor, meta, pooling, model.Name);

        if (string.IsNullOrEmpty(o.OutputColumnName))
        {
            ThrowHelper.BadOption(nameof(o.OutputColumnName), "OutputColumnName must not be empty.");
        }

        return new ImageEncoderConfig
        {
            InputColumnName = o.InputColumnName,
            OutputColumnName = o.OutputColumnName,
            ErrorColumnName = o.ContinueOnError ? o.ErrorColumnName : null,
            ImageTensorName = imageTensor,
            EmbeddingTensorName = embeddingTensor,
            Normalize = o.Normalize,
            TokenPooling = pooling,
            Preprocessing = ImageInput.ResolvePreprocessing(o, manifest, imageTensor, model.InputMetadata[imageTensor], model.Name),
            RawPixelWidth = o.RawPixelWidth ?? 0,
            RawPixelHeight = o.RawPixelHeight ?? 0,
            RawPixelChannels = o.RawPixelChannels ?? 0,
            BatchSize = o.BatchSize,
            ImageFolder = o.ImageFolder,
            ImagePathColumnName = o.ImagePathColumnName,
        };
    }

    private static (IHost, OnnxModel, ImageEncoderConfig) Open(IHostEnvironment env, OnnxImageEncoderEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(nameof(OnnxImageEncoderTransformer));
        OnnxScoringTransformer.CheckBatchSize(options.BatchSize);
        var (model, config) = ImageMapper.Open(host, options, "EncodeClipImage", (manifest, model) =>
        {
            var config = Resolve(options, manifest, model);
            _ = Bind(config, model); // refused here, while the session is still disposed on failure
            return config;
        }, "clip-image", "image-classifier");
        return (host, model, config);
    }

    private ImageMapper CreateMapper(ImageInput input)
        => new(this, input, Config.BatchSize, OutputColumnsSchema, (source, active, capacity) => new Batch(this, source, active, capacity));

    private static (OnnxColumnBinding Image, OnnxColumnBinding Embedding, ImageInput Input, ImageEmbeddingShape Shape) Bind(ImageEncoderConfig c, OnnxModel model)
    {
        if (!model.InputMetadata.ContainsKey(c.ImageTensorName) || !model.OutputMetadata.ContainsKey(c.EmbeddingTensorName) || model.InputMetadata.Count != 1)
        {
            ThrowHelper.CorruptModel($"The saved image encoder's tensors ({c.ImageTensorName} -> {c.EmbeddingTensorName}) are not those of its ONNX model {model.Name}.");
        }

        var image = new OnnxColumnBinding(c.InputColumnName, OnnxTensorInfo.Create(c.ImageTensorName, model.InputMetadata[c.ImageTensorName], model.Name, isInput: true));
        var embedding = new OnnxColumnBinding(c.OutputColumnName, OnnxTensorInfo.Create(c.EmbeddingTensorName, model.OutputMetadata[c.EmbeddingTensorName], model.Name, isInput: false));
        var input = c.CreateInput();
        var shape = ImageEmbeddingShape.Resolve(c.EmbeddingTensorName, model.OutputMetadata[c.EmbeddingTensorName], c.TokenPooling, model.Name);
        return (image, embedding, input, shape);
    }

    // 0x00010001: the settings as JSON; 0x00010002: explicit fields; 0x00010003: layout, channel order, interpolation, offset,
    // mean image and token pooling after them.
    private const uint ExplicitFieldsVersion = 0x00010002;
    private const uint ForeignGraphsVersion = 0x00010003;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "MLNIMGEN",
        verWrittenCur: ForeignGraphsVersion,
        verReadableCur: ForeignGraphsVersion,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(OnnxImageEncoderTransformer).Assembly.FullName);

    private static OnnxImageEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => Load(env, ctx, GetVersionInfo(), nameof(OnnxImageEncoderTransformer), (host, model) =>
        {
            var config = ctx.Header.ModelVerWritten >= ExplicitFieldsVersion
                ? ModelEntry.Read(ctx, () => ImageEncoderConfig.Load(ctx, v3: ctx.Header.ModelVerWritten >= ForeignGraphsVersion))
                : ModelEntry.Json(ctx, "image encoder", ImageEncoderConfig.FromJson);
            ModelEntry.Check(ctx, config.Problem(model));
            return new OnnxImageEncoderTransformer(host, model, config);
        });
}
