using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

[assembly: LoadableClass(typeof(OnnxImageClassifierTransformer), null, typeof(SignatureLoadModel),
    "MlNotes ONNX image classifier", OnnxImageClassifierTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The transformer of <see cref="OnnxImageClassifierEstimator"/>: preprocesses images as the model was trained, scores them in
/// batches, and adds probabilities, the predicted label, optional top-k and the embedding. Holds a native session: dispose it.
/// </summary>
public sealed partial class OnnxImageClassifierTransformer : OnnxImageModelTransformer
{
    internal const string LoaderSignature = "MlNotesOnnxImageClass";
    private const string TopKLabelsSuffix = "TopKLabels";
    private const string TopKScoresSuffix = "TopKScores";

    private readonly OnnxColumnBinding _image;
    private readonly OnnxColumnBinding[] _outputs;
    private readonly ReadOnlyMemory<char>[] _classNames;
    private readonly ImageEmbeddingShape? _embeddingShape;

    internal OnnxImageClassifierTransformer(IHostEnvironment env, OnnxImageClassifierEstimator.Options options)
        : this(Open(env, nameof(OnnxImageClassifierTransformer), CheckOptions(options), "ClassifyImageOnnx",
            (manifest, model) => Resolve(options, manifest, model), (config, model) => Bind(config, model), "image-classifier"))
    {
        ImageInput.LogFixedBatch(Host, _image, Config.BatchSize, Model.Name);
    }

    private OnnxImageClassifierTransformer((IHost Host, OnnxModel Model, ImageClassifierConfig Config) opened)
        : base(opened.Host, opened.Model)
    {
        Config = opened.Config;
        (_image, _outputs, _classNames, _embeddingShape) = Bind(Config, Model);
        Map(Config, OutputColumnsSchema, (source, active, capacity) => new Batch(this, source, active, capacity));
    }

    internal override OnnxTransformerBase Reopen() => new OnnxImageClassifierTransformer((Host, Model.Reopen(), Config));

    private protected override VersionInfo Version => GetVersionInfo();

    /// <summary>Class names in the model's output order: the score slots and the predicted label's key values.</summary>
    public IReadOnlyList<string> ClassNames => Config.ClassNames;

    internal ImageClassifierConfig Config { get; }


    private protected override void SaveModel(ModelSaveContext ctx)
    {
        Model.Save(ctx);
        Config.Save(ctx);
        ctx.SaveStringOrNull(Config.EnergyColumnName); // v3
    }


    private static OnnxImageClassifierEstimator.Options CheckOptions(OnnxImageClassifierEstimator.Options options)
    {
        if (options.TopK < 0)
        {
            ThrowHelper.BadOption(nameof(options.TopK), $"TopK must be 0 or more, got {options.TopK}.");
        }

        if (options.EnergyColumnName?.Length == 0)
        {
            ThrowHelper.BadOption(nameof(options.EnergyColumnName), "EnergyColumnName must be null (no energy column) or a column name, not empty.");
        }

        return options;
    }

    private static ImageClassifierConfig Resolve(OnnxImageClassifierEstimator.Options o, ModelManifest? manifest, OnnxModel model)
    {
        string imageTensor = ImageInput.ResolveImageTensor(o, manifest, model);
        string logitsTensor = o.LogitsTensorName ?? manifest?.Role("logits") ?? model.OutputMetadata.Keys.First();
        string? embeddingTensor = o.EmbeddingTensorName ?? manifest?.Role("embedding");
        var preprocessing = ImageInput.ResolvePreprocessing(o, manifest, imageTensor, model.InputMetadata[imageTensor], model.Name);
        if (!model.OutputMetadata.TryGetValue(logitsTensor, out var logitsMeta))
        {
            return ThrowHelper.BadOption<ImageClassifierConfig>(nameof(o.LogitsTensorName), $"The ONNX model {model.Name} has no output named '{logitsTensor}' (its outputs: {string.Join(", ", model.OutputMetadata.Keys)}).");
        }

        int classCount = Math.Max(ImageClassifierConfig.ClassCount(logitsMeta.Dimensions), 0);
        string[] classes = o.ClassNames ?? manifest?.Labels ?? Enumerable.Range(0, Math.Max(classCount, 0)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (classCount <= 0 || classes.Length != classCount)
        {
            ThrowHelper.BadOption(nameof(o.ClassNames),
                $"The ONNX output '{logitsTensor}' of model {model.Name} has shape [{string.Join(", ", logitsMeta.Dimensions)}]: the logits must be [batch, classes] or [batch, classes, 1, 1] with a known class count equal to the {classes.Length} class names.");
        }

        if (embeddingTensor != null && !model.OutputMetadata.ContainsKey(embeddingTensor))
        {
            ThrowHelper.BadOption(nameof(o.EmbeddingTensorName), $"The ONNX model {model.Name} has no output named '{embeddingTensor}'.");
        }

        var pooling = ImageEmbeddingShape.PoolingOf(o.TokenPooling, manifest);
        if (embeddingTensor == null && o.TokenPooling != null)
        {
            ThrowHelper.BadOption(nameof(o.TokenPooling), $"TokenPooling ({o.TokenPooling}) pools an embedding output of tokens, and model {model.Name} is given none: set EmbeddingTensorName.");
        }

        if (embeddingTensor != null)
        {
            _ = ImageEmbeddingShape.Resolve(embeddingTensor, model.OutputMetadata[embeddingTensor], pooling, model.Name);
        }

        if (o.LogitsColumnName != null && o.LogitsColumnName.Length == 0)
        {
            ThrowHelper.BadOption(nameof(o.LogitsColumnName), "LogitsColumnName must be null (no logits column) or a column name, not empty.");
        }

        return (ImageClassifierConfig)new ImageClassifierConfig
        {
            ScoreColumnName = o.ScoreColumnName,
            PredictedLabelColumnName = o.PredictedLabelColumnName,
            EmbeddingColumnName = embeddingTensor != null ? o.EmbeddingColumnName : null,
            LogitsColumnName = o.LogitsColumnName,
            TokenPooling = embeddingTensor != null ? pooling : null,
            TopK = Math.Min(o.TopK, classCount),
            EnergyColumnName = o.EnergyColumnName,
            LogitsTensorName = logitsTensor,
            EmbeddingTensorName = embeddingTensor,
            ClassNames = classes,
        }.WithImageOptions(o, imageTensor, preprocessing);
    }

    private static (OnnxColumnBinding Image, OnnxColumnBinding[] Outputs, ReadOnlyMemory<char>[] ClassNames, ImageEmbeddingShape? EmbeddingShape) Bind(ImageClassifierConfig config, OnnxModel model)
    {
        var image = new OnnxColumnBinding(config.InputColumnName, OnnxTensorInfo.Create(config.ImageTensorName, model.InputMetadata[config.ImageTensorName], model.Name, isInput: true));
        var outputs = new List<OnnxColumnBinding>
        {
            new(config.ScoreColumnName, OnnxTensorInfo.Create(config.LogitsTensorName, model.OutputMetadata[config.LogitsTensorName], model.Name, isInput: false)),
        };
        ImageEmbeddingShape? shape = null;
        if (config.EmbeddingTensorName != null)
        {
            shape = ImageEmbeddingShape.Resolve(config.EmbeddingTensorName, model.OutputMetadata[config.EmbeddingTensorName], config.TokenPooling, model.Name);
            outputs.Add(new(config.EmbeddingColumnName ?? config.EmbeddingTensorName, OnnxTensorInfo.Create(config.EmbeddingTensorName, model.OutputMetadata[config.EmbeddingTensorName], model.Name, isInput: false)));
        }

        if (model.InputMetadata.Count != 1)
        {
            ThrowHelper.InvalidOperation($"The ONNX model {model.Name} has {model.InputMetadata.Count} inputs; an image classifier feeds only the image.");
        }

        return (image, outputs.ToArray(), config.ClassNames.Select(n => n.AsMemory()).ToArray(), shape);
    }

    // 0x00010001: the settings as JSON; 0x00010002: explicit fields; 0x00010003: layout, channel order, interpolation, offset,
    // mean image, the logits column and token pooling after them, then the energy column (string or null).
    private const uint ExplicitFieldsVersion = 0x00010002;
    private const uint ForeignGraphsVersion = 0x00010003;
    private const uint EnergyVersion = ForeignGraphsVersion;

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNIMGCL", LoaderSignature, ForeignGraphsVersion);

    private static OnnxImageClassifierTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => Load(env, ctx, GetVersionInfo(), nameof(OnnxImageClassifierTransformer), (host, model) =>
        {
            var config = ctx.Header.ModelVerWritten >= ExplicitFieldsVersion
                ? ModelEntry.Read(ctx, () => ImageClassifierConfig.Load(ctx, v3: ctx.Header.ModelVerWritten >= ForeignGraphsVersion))
                : ModelEntry.Json(ctx, "image classifier", ImageClassifierConfig.FromJson);
            if (ctx.Header.ModelVerWritten >= EnergyVersion)
            {
                config = config with { EnergyColumnName = ModelEntry.Read(ctx, ctx.LoadStringOrNull) };
            }

            ModelEntry.Check(ctx, config.Problem(model));
            return new OnnxImageClassifierTransformer((host, model, config));
        });
}
