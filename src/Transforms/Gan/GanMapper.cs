using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Gan;

/// <summary>Where a GAN transformer's graph comes from: a file or bytes, the manifest, and where it runs.</summary>
internal sealed record GanModelSource(string? ModelFile, byte[]? ModelBytes, string? ManifestFile, OnnxExecutionSettings Settings);

/// <summary>
/// What the GAN transformers share: the generator's or the discriminator's session, the resolved <see cref="GanConfig"/>, the
/// added columns, the checks of the input schema, batches (<see cref="Batch"/>) and persistence.
/// </summary>
internal sealed partial class GanMapper : IDisposable, ISessionMapper
{
    private const string ImageExpectation = "an image (MLImage) or a Single vector of preprocessed pixels";
    private readonly OnnxModel _model;
    private readonly (string Name, DataViewType Type)[] _columns;
    private readonly OnnxColumnBinding _input, _output;

    private GanMapper(IHost host, OnnxModel model, GanConfig config)
    {
        Host = host;
        _model = model;
        Config = config;
        bool generator = config.Graph == GanGraph.Generator;
        _input = VaeGraphs.Bind(model, (generator ? config.NoiseColumnName : config.InputColumnName) ?? config.InputTensorName, config.InputTensorName, isInput: true);
        _output = VaeGraphs.Bind(model, (generator ? config.ImageColumnName : config.LogitColumnName)!, config.OutputTensorName, isInput: false);
        _columns = generator
            ? new (string, DataViewType)[] { (config.ImageColumnName!, new VectorDataViewType(NumberDataViewType.Single, _output.Tensor.RowDims)) }
            : new (string, DataViewType)[] { (config.LogitColumnName!, NumberDataViewType.Single), (config.RealismColumnName!, NumberDataViewType.Single) };
    }

    public IHost Host { get; }

    public GanConfig Config { get; }

    public int BatchSize => Config.BatchSize;

    public IReadOnlyList<OnnxModel> Models => [_model];

    /// <summary>The generator's image shape (channels, height, width), or the discriminator's input shape.</summary>
    public int[] ImageDims => (Config.Graph == GanGraph.Generator ? _output : _input).Tensor.RowDims;

    private int ImageSize => ImageDims.Aggregate(1, (a, b) => a * b);

    /// <summary>Loads the graph, checks it against its manifest (of <paramref name="family"/>), and resolves tensors and sizes.</summary>
    public static GanMapper Create(IHostEnvironment env, string name, string family, GanModelSource source, GanConfig requested)
    {
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(name);
        OnnxScoringTransformer.CheckBatchSize(requested.BatchSize);
        var manifest = source.ManifestFile != null ? ModelManifest.Load(source.ManifestFile) : ModelManifest.Beside(source.ModelFile);
        ManifestFields.CheckFamily(manifest, name, family);
        var model = VaeGraphs.Open(host, source.ModelFile, source.ModelBytes, "ModelFile", source.Settings, manifest);
        try
        {
            var config = Resolve(requested, model, manifest);
            if (config.Problem(model) is { } problem)
            {
                ThrowHelper.InvalidOperation($"The GAN graph and manifest ({model.Name}) do not fit: {problem}.");
            }

            return new GanMapper(host, model, config);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A new mapper of the same config over a session of the same graph (<see cref="OnnxModel.Reopen"/>): an estimator's next <c>Fit</c>.</summary>
    public GanMapper Reopen() => new(Host, _model.Reopen(), Config);

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var (name, type) in _columns)
        {
            builder.AddColumn(name, type);
        }

        return builder.ToSchema();
    }

    /// <summary>The input columns plus the added ones, for an estimator's <c>GetOutputSchema</c>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var reads = InputColumnName is { } input
            ? new[] { new ColumnRead(input, Config.Graph == GanGraph.Generator ? SchemaShapes.IsSingleVector : SchemaShapes.IsImageOrPixels, Expectation) }
            : Array.Empty<ColumnRead>();
        return SchemaShapes.Extend(inputSchema, reads, SchemaShapes.Of(_columns.Select(c => new DataViewSchema.DetachedColumn(c.Name, c.Type))));
    }

    public IEnumerable<string> InputColumns(DataViewSchema inputSchema, bool[] activeOutputs) => InputColumnName is { } c ? new[] { c } : Array.Empty<string>();

    public IBatch CreateBatch(DataViewRow source, bool[] activeOutputs, int capacity) => new Batch(this, source, capacity);

    public void ThrowIfDisposed() => _model.ThrowIfDisposed();

    public void Dispose() => _model.Dispose();

    /// <summary>Writes the graph and the config.</summary>
    public void Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        _model.Save(ctx);
        Config.Write(ctx);
    }

    /// <summary>Reads what <see cref="Save"/> wrote, checks the config against the graph and that the graph is of the kind expected.</summary>
    public static GanMapper Load(IHostEnvironment env, string name, ModelLoadContext ctx, VersionInfo version, GanGraph expected)
    {
        ctx.CheckAtModel(version);
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(name);
        return OnnxModel.LoadAll(env, host, ctx, new[] { OnnxModel.ModelStreamName }, models =>
        {
            var config = GanConfig.Read(ctx);
            ModelEntry.Check(ctx, config.Graph == expected, $"it holds a GAN {config.Graph.ToString().ToLowerInvariant()}, not a {expected.ToString().ToLowerInvariant()}");
            ModelEntry.Check(ctx, config.Problem(models[0]!));
            return new GanMapper(host, models[0]!, config);
        });
    }

    private string? InputColumnName => Config.Graph == GanGraph.Generator ? Config.NoiseColumnName : Config.InputColumnName;

    private string Expectation => Config.Graph == GanGraph.Generator
        ? $"a vector of {Config.NoiseSize} Single values (the generator's noise)"
        : $"{ImageExpectation} ({ImageSize} values: {string.Join(" x ", ImageDims)}, CHW, in the model's units)";

    private void CheckInput(DataViewSchema schema)
    {
        bool generator = Config.Graph == GanGraph.Generator;
        var reads = InputColumnName is { } name
            ? new[] { new ColumnTypeRead(name, type => generator ? SchemaShapes.IsSingleVector(type, Config.NoiseSize, orUnknown: true) : SchemaShapes.IsImageOrPixels(type, ImageSize), Expectation) }
            : Array.Empty<ColumnTypeRead>();
        SchemaShapes.Check(schema, reads);
    }

    private static GanConfig Resolve(GanConfig r, OnnxModel model, ModelManifest? manifest)
    {
        bool generator = r.Graph == GanGraph.Generator;
        string input = VaeGraphs.Tensor(model, manifest?.Role(generator ? "noise" : "image"), generator ? "noise" : "image", isInput: true);
        string output = VaeGraphs.Tensor(model, manifest?.Role(generator ? "image" : "logit"), generator ? "image" : "logit", isInput: false);
        int[] inDims = model.InputMetadata[input].Dimensions, outDims = model.OutputMetadata[output].Dimensions;
        string Shape(int[] d) => $"[{string.Join(", ", d)}]";
        int[] image = generator ? outDims : inDims;
        if (image.Length != 4 || image.Skip(1).Any(d => d <= 0))
        {
            ThrowHelper.InvalidOperation($"The ONNX {(generator ? "output" : "input")} '{(generator ? output : input)}' of model {model.Name} has shape {Shape(image)}: a GAN's images are [batch, channels, height, width] of a fixed size.");
        }

        if (generator)
        {
            if (inDims.Length != 2 || inDims[1] <= 0)
            {
                ThrowHelper.InvalidOperation($"The ONNX input '{input}' of model {model.Name} has shape {Shape(inDims)}: a GAN generator takes noise [batch, noise size].");
            }

            if (manifest?.NoiseSize is int declared && declared != inDims[1])
            {
                ThrowHelper.InvalidOperation($"The model manifest {manifest.Source} has noise_size {declared}, but the ONNX input '{input}' of model {model.Name} is {Shape(inDims)}.");
            }

            if (manifest?.OutputImage is { } o && (o.Channels != image[1] || o.Height != image[2] || o.Width != image[3]))
            {
                ThrowHelper.InvalidOperation($"The model manifest {manifest.Source} has an output_image of {o.Channels} x {o.Height} x {o.Width}, but the ONNX output '{output}' of model {model.Name} is {Shape(image)}.");
            }

            return r with { InputTensorName = input, OutputTensorName = output, NoiseSize = inDims[1] };
        }

        if (!(outDims.Length == 1 || (outDims.Length == 2 && outDims[1] == 1)))
        {
            ThrowHelper.InvalidOperation($"The ONNX output '{output}' of model {model.Name} has shape {Shape(outDims)}: a GAN discriminator gives one logit per image, [batch] or [batch, 1].");
        }

        var spec = manifest?.Preprocessing;
        var preprocessing = spec != null
            ? ImagePreprocessingSettings.FromManifest(spec, manifest!.Source)
            : new ImagePreprocessingSettings(image[3], image[2], image[1], ResizeKind.None, 0, false, 1.0 / 255, new float[image[1]], Enumerable.Repeat(1f, image[1]).ToArray());
        preprocessing.Validate();
        if (preprocessing.Channels != image[1] || preprocessing.Height != image[2] || preprocessing.Width != image[3])
        {
            ThrowHelper.InvalidOperation($"The model manifest {manifest!.Source} preprocesses to {preprocessing.Channels} x {preprocessing.Height} x {preprocessing.Width}, but the ONNX input '{input}' of model {model.Name} is {Shape(image)}.");
        }

        return r with { InputTensorName = input, OutputTensorName = output, Preprocessing = preprocessing };
    }
}
