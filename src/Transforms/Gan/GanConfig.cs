using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.Gan;

/// <summary>Which of a GAN's two graphs a transformer runs.</summary>
internal enum GanGraph
{
    Generator = 1,
    Discriminator = 2,
}

/// <summary>
/// Everything a GAN transformer resolved from its manifest and options. Stored in <c>Model.key</c> (v1) field by field: the
/// graph kind (Int32: 1 generator, 2 discriminator); 5 column names (string id or -1: noise input, image output, image input,
/// logit, realism); the input and output tensor names; for a discriminator its preprocessing
/// (<see cref="ImagePreprocessingSettings.Save"/>); then the noise size, the seed and the batch size (Int32 each).
/// </summary>
internal sealed record GanConfig
{
    public GanGraph Graph { get; init; }

    /// <summary>Generator: the column of noise vectors it reads; null: noise drawn per row from <see cref="Seed"/> and the row's id.</summary>
    public string? NoiseColumnName { get; init; }

    /// <summary>Generator: the generated image column.</summary>
    public string? ImageColumnName { get; init; }

    /// <summary>Discriminator: the image column it scores.</summary>
    public string? InputColumnName { get; init; }

    /// <summary>Discriminator: the logit column (log odds that the image is real).</summary>
    public string? LogitColumnName { get; init; }

    /// <summary>Discriminator: the realism column, sigmoid(logit).</summary>
    public string? RealismColumnName { get; init; }

    public string InputTensorName { get; init; } = "";

    public string OutputTensorName { get; init; } = "";

    /// <summary>Discriminator: how an image becomes its input.</summary>
    public ImagePreprocessingSettings? Preprocessing { get; init; }

    /// <summary>Generator: the size of a noise vector (0 for a discriminator).</summary>
    public int NoiseSize { get; init; }

    public int Seed { get; init; }

    public int BatchSize { get; init; }

    /// <summary>The first problem of settings (read back from a model zip, or resolved) against the graph, or null.</summary>
    public string? Problem(OnnxModel model)
    {
        bool generator = Graph == GanGraph.Generator;
        string?[] columns = { NoiseColumnName, ImageColumnName, InputColumnName, LogitColumnName, RealismColumnName };
        int[] inDims = model.InputMetadata.TryGetValue(InputTensorName, out var i) ? i.Dimensions : System.Array.Empty<int>();
        return ModelEntry.First(
            Graph is not (GanGraph.Generator or GanGraph.Discriminator) ? $"its graph kind is {(int)Graph}, not 1 (generator) or 2 (discriminator)" : null,
            columns.Any(c => c != null && c.Length == 0) ? "one of its column names is empty" : null,
            generator && ImageColumnName == null ? "the generator has no image column" : null,
            !generator && (InputColumnName == null || LogitColumnName == null || RealismColumnName == null) ? "the discriminator lacks its image, logit or realism column" : null,
            ModelEntry.MissingTensor("input tensor", InputTensorName, model.InputMetadata, "input"),
            ModelEntry.MissingTensor("output tensor", OutputTensorName, model.OutputMetadata, "output"),
            generator && (NoiseSize < 1 || inDims.Length != 2 || inDims[1] != NoiseSize) ? $"its noise size {NoiseSize} is not the graph's [{string.Join(", ", inDims)}] noise input" : null,
            !generator && NoiseSize != 0 ? $"its noise size is {NoiseSize} for a discriminator" : null,
            !generator ? (Preprocessing == null ? "it has no preprocessing settings for the discriminator" : Preprocessing.Problem()) : null,
            BatchSize < 1 ? $"its batch size is {BatchSize}, not at least 1" : null);
    }

    public void Write(ModelSaveContext ctx)
    {
        var w = ctx.Writer;
        w.Write((int)Graph);
        foreach (string? column in new[] { NoiseColumnName, ImageColumnName, InputColumnName, LogitColumnName, RealismColumnName })
        {
            ctx.SaveStringOrNull(column);
        }

        ctx.SaveNonEmptyString(InputTensorName);
        ctx.SaveNonEmptyString(OutputTensorName);
        if (Graph == GanGraph.Discriminator)
        {
            Preprocessing!.Save(ctx);
        }

        w.Write(NoiseSize);
        w.Write(Seed);
        w.Write(BatchSize);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; a value that cannot be read is a corrupt entry (the caller checks the rest).</summary>
    public static GanConfig Read(ModelLoadContext ctx)
    {
        var r = ctx.Reader;
        int graph = ModelEntry.Read(ctx, r.ReadInt32);
        ModelEntry.Check(ctx, graph is 1 or 2, $"its graph kind is {graph}, not 1 (generator) or 2 (discriminator)");
        var columns = new List<string?>();
        for (int i = 0; i < 5; i++)
        {
            columns.Add(ModelEntry.Read(ctx, ctx.LoadStringOrNull));
        }

        var (input, output) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString()));
        var preprocessing = graph == (int)GanGraph.Discriminator ? ModelEntry.Read(ctx, () => ImagePreprocessingSettings.Load(ctx)) : null;
        var (noise, seed, batch) = ModelEntry.Read(ctx, () => (r.ReadInt32(), r.ReadInt32(), r.ReadInt32()));
        return new GanConfig
        {
            Graph = (GanGraph)graph,
            NoiseColumnName = columns[0],
            ImageColumnName = columns[1],
            InputColumnName = columns[2],
            LogitColumnName = columns[3],
            RealismColumnName = columns[4],
            InputTensorName = input,
            OutputTensorName = output,
            Preprocessing = preprocessing,
            NoiseSize = noise,
            Seed = seed,
            BatchSize = batch,
        };
    }
}
