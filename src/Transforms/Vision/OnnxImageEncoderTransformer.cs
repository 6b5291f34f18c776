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
public sealed partial class OnnxImageEncoderTransformer : OnnxImageModelTransformer
{
    internal const string LoaderSignature = "MlNotesOnnxImageEnc";

    private readonly OnnxColumnBinding _image;
    private readonly OnnxColumnBinding _embedding;
    private readonly ImageEmbeddingShape _shape;

    internal OnnxImageEncoderTransformer(IHostEnvironment env, OnnxImageEncoderEstimator.Options options)
        : this(Open(env, nameof(OnnxImageEncoderTransformer), options, "EncodeClipImage",
            (manifest, model) => Resolve(options, manifest, model), (config, model) => Bind(config, model), "clip-image", "image-classifier"))
    {
        ImageInput.LogFixedBatch(Host, _image, Config.BatchSize, Model.Name);
    }

    private OnnxImageEncoderTransformer((IHost Host, OnnxModel Model, ImageEncoderConfig Config) opened)
        : base(opened.Host, opened.Model)
    {
        Config = opened.Config;
        (_image, _embedding, _shape) = Bind(Config, Model);
        Map(Config, OutputColumnsSchema, (source, active, capacity) => new Batch(this, source, active, capacity));
    }

    private protected override VersionInfo Version => GetVersionInfo();

    internal override OnnxTransformerBase Reopen() => new OnnxImageEncoderTransformer((Host, Model.Reopen(), Config));

    /// <summary>The embedding size.</summary>
    public int EmbeddingSize => _shape.Size;

    internal ImageEncoderConfig Config { get; }


    private protected override void SaveModel(ModelSaveContext ctx)
    {
        Model.Save(ctx);
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

        return (ImageEncoderConfig)new ImageEncoderConfig
        {
            OutputColumnName = o.OutputColumnName,
            EmbeddingTensorName = embeddingTensor,
            Normalize = o.Normalize,
            TokenPooling = pooling,
        }.WithImageOptions(o, imageTensor, ImageInput.ResolvePreprocessing(o, manifest, imageTensor, model.InputMetadata[imageTensor], model.Name));
    }

    private static (OnnxColumnBinding Image, OnnxColumnBinding Embedding, ImageEmbeddingShape Shape) Bind(ImageEncoderConfig c, OnnxModel model)
    {
        if (!model.InputMetadata.ContainsKey(c.ImageTensorName) || !model.OutputMetadata.ContainsKey(c.EmbeddingTensorName) || model.InputMetadata.Count != 1)
        {
            ThrowHelper.CorruptModel($"The saved image encoder's tensors ({c.ImageTensorName} -> {c.EmbeddingTensorName}) are not those of its ONNX model {model.Name}.");
        }

        var image = new OnnxColumnBinding(c.InputColumnName, OnnxTensorInfo.Create(c.ImageTensorName, model.InputMetadata[c.ImageTensorName], model.Name, isInput: true));
        var embedding = new OnnxColumnBinding(c.OutputColumnName, OnnxTensorInfo.Create(c.EmbeddingTensorName, model.OutputMetadata[c.EmbeddingTensorName], model.Name, isInput: false));
        var shape = ImageEmbeddingShape.Resolve(c.EmbeddingTensorName, model.OutputMetadata[c.EmbeddingTensorName], c.TokenPooling, model.Name);
        return (image, embedding, shape);
    }

    // 0x00010001: the settings as JSON; 0x00010002: explicit fields; 0x00010003: layout, channel order, interpolation, offset,
    // mean image and token pooling after them.
    private const uint ExplicitFieldsVersion = 0x00010002;
    private const uint ForeignGraphsVersion = 0x00010003;

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNIMGEN", LoaderSignature, ForeignGraphsVersion);

    private static OnnxImageEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => Load(env, ctx, GetVersionInfo(), nameof(OnnxImageEncoderTransformer), (host, model) =>
        {
            var config = ctx.Header.ModelVerWritten >= ExplicitFieldsVersion
                ? ModelEntry.Read(ctx, () => ImageEncoderConfig.Load(ctx, v3: ctx.Header.ModelVerWritten >= ForeignGraphsVersion))
                : ModelEntry.Json(ctx, "image encoder", ImageEncoderConfig.FromJson);
            ModelEntry.Check(ctx, config.Problem(model));
            return new OnnxImageEncoderTransformer((host, model, config));
        });
}
