using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.VqVae;

/// <summary>
/// Everything a VQ-VAE transformer resolved from its manifests and options. A null column name: the transformer does not add
/// (or read) that column. Stored in <c>Model.key</c> (v1) field by field: 7 column names (string id or -1); with an encoder its
/// image and latents tensor names and the preprocessing (<see cref="ImagePreprocessingSettings.Save"/>); with a decoder its codes
/// and reconstruction tensor names; then grid height, grid width, code size, codebook size (Int32), the codebook
/// (codebook size x code size Singles, row by row) and the batch size (Int32).
/// </summary>
internal sealed record VqVaeConfig
{
    /// <summary>The image column (encoder, reconstructor).</summary>
    public string? InputColumnName { get; init; }

    /// <summary>The key vector of codes the decoder reads.</summary>
    public string? CodesInputColumnName { get; init; }

    public string? CodesColumnName { get; init; }

    public string? CodeVectorsColumnName { get; init; }

    /// <summary>The encoder's unquantized latent grid.</summary>
    public string? LatentsColumnName { get; init; }

    public string? ReconstructionColumnName { get; init; }

    public string? ReconstructionErrorColumnName { get; init; }

    public string ImageTensorName { get; init; } = "";

    public string LatentsTensorName { get; init; } = "";

    public string CodesTensorName { get; init; } = "";

    public string ReconstructionTensorName { get; init; } = "";

    public ImagePreprocessingSettings? Preprocessing { get; init; }

    public int GridHeight { get; init; }

    public int GridWidth { get; init; }

    public int CodeSize { get; init; }

    public int CodebookSize { get; init; }

    /// <summary>The codebook, <see cref="CodebookSize"/> rows of <see cref="CodeSize"/> values, row by row.</summary>
    public float[] Codebook { get; init; } = Array.Empty<float>();

    public int BatchSize { get; init; }

    /// <summary>Latent positions per image (grid height x width): the length of the codes vector.</summary>
    public int Positions => GridHeight * GridWidth;

    /// <summary>The first problem of settings (read back from a model zip, or resolved) against the graphs, or null.</summary>
    public string? Problem(OnnxModel? encoder, OnnxModel? decoder)
    {
        int[] grid = { GridHeight, GridWidth, CodeSize };
        static int[] Dims(IReadOnlyDictionary<string, NodeMetadata> graph, string tensor) => graph.TryGetValue(tensor, out var m) ? m.Dimensions : Array.Empty<int>();
        static bool Fits(int[] dims, int[] grid) => dims.Length == 4 && dims.Skip(1).SequenceEqual(grid);
        string Shape(int[] dims) => $"[{string.Join(", ", dims)}], not [batch, {GridHeight}, {GridWidth}, {CodeSize}]";
        string? encoderProblem = encoder == null ? null : ModelEntry.First(
            ModelEntry.MissingTensor("image tensor", ImageTensorName, encoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("latents tensor", LatentsTensorName, encoder.OutputMetadata, "output"),
            !Fits(Dims(encoder.OutputMetadata, LatentsTensorName), grid) ? $"the encoder's latents are {Shape(Dims(encoder.OutputMetadata, LatentsTensorName))}" : null,
            Preprocessing == null ? "it has no preprocessing settings for the encoder" : Preprocessing.Problem());
        string? decoderProblem = decoder == null ? null : ModelEntry.First(
            ModelEntry.MissingTensor("codes tensor", CodesTensorName, decoder.InputMetadata, "input"),
            ModelEntry.MissingTensor("reconstruction tensor", ReconstructionTensorName, decoder.OutputMetadata, "output"),
            !Fits(Dims(decoder.InputMetadata, CodesTensorName), grid) ? $"the decoder's codes are {Shape(Dims(decoder.InputMetadata, CodesTensorName))}" : null);
        string?[] columns = { InputColumnName, CodesInputColumnName, CodesColumnName, CodeVectorsColumnName, ReconstructionColumnName, ReconstructionErrorColumnName, LatentsColumnName };
        return ModelEntry.First(
            encoder == null && decoder == null ? "it holds neither an encoder nor a decoder" : null,
            columns.Any(c => c != null && c.Length == 0) ? "one of its column names is empty" : null,
            GridHeight < 1 || GridWidth < 1 || CodeSize < 1 ? $"its grid {GridHeight} x {GridWidth} of codes of size {CodeSize} is not at least 1 x 1 x 1" : null,
            CodebookSize < 1 ? $"its codebook size is {CodebookSize}, not at least 1" : null,
            (long)CodebookSize * CodeSize != Codebook.Length ? $"its codebook has {Codebook.Length} values, not {CodebookSize} x {CodeSize}" : null,
            ModelEntry.NonFinite("codebook", Codebook),
            BatchSize < 1 ? $"its batch size is {BatchSize}, not at least 1" : null,
            encoderProblem ?? decoderProblem);
    }

    public void Write(ModelSaveContext ctx, bool hasEncoder, bool hasDecoder)
    {
        foreach (string? column in new[] { InputColumnName, CodesInputColumnName, CodesColumnName, CodeVectorsColumnName, ReconstructionColumnName, ReconstructionErrorColumnName, LatentsColumnName })
        {
            ctx.SaveStringOrNull(column);
        }

        if (hasEncoder)
        {
            ctx.SaveNonEmptyString(ImageTensorName);
            ctx.SaveNonEmptyString(LatentsTensorName);
            Preprocessing!.Save(ctx);
        }

        if (hasDecoder)
        {
            ctx.SaveNonEmptyString(CodesTensorName);
            ctx.SaveNonEmptyString(ReconstructionTensorName);
        }

        var w = ctx.Writer;
        w.Write(GridHeight);
        w.Write(GridWidth);
        w.Write(CodeSize);
        w.Write(CodebookSize);
        foreach (float v in Codebook)
        {
            w.Write(v);
        }

        w.Write(BatchSize);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; a value that cannot be read is a corrupt entry (the caller checks the rest).</summary>
    public static VqVaeConfig Read(ModelLoadContext ctx, bool hasEncoder, bool hasDecoder)
    {
        var r = ctx.Reader;
        var columns = new string?[7];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = ModelEntry.Read(ctx, ctx.LoadStringOrNull);
        }

        var c = new VqVaeConfig
        {
            InputColumnName = columns[0],
            CodesInputColumnName = columns[1],
            CodesColumnName = columns[2],
            CodeVectorsColumnName = columns[3],
            ReconstructionColumnName = columns[4],
            ReconstructionErrorColumnName = columns[5],
            LatentsColumnName = columns[6],
        };
        if (hasEncoder)
        {
            var (image, latents) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString()));
            c = c with { ImageTensorName = image, LatentsTensorName = latents, Preprocessing = ModelEntry.Read(ctx, () => ImagePreprocessingSettings.Load(ctx)) };
        }

        if (hasDecoder)
        {
            var (codes, reconstruction) = ModelEntry.Read(ctx, () => (ctx.LoadNonEmptyString(), ctx.LoadNonEmptyString()));
            c = c with { CodesTensorName = codes, ReconstructionTensorName = reconstruction };
        }

        var (height, width, dim, size) = ModelEntry.Read(ctx, () => (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32()));
        ModelEntry.Check(ctx, height >= 1 && width >= 1 && dim >= 1 && size >= 1 && (long)size * dim <= 1 << 24,
            $"its codebook of {size} codes of size {dim} on a {height} x {width} grid is not at least 1 of each and at most 2^24 values");
        var book = ModelEntry.Read(ctx, () =>
        {
            var values = new float[size * dim];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = r.ReadSingle();
            }

            return values;
        });
        int batchSize = ModelEntry.Read(ctx, r.ReadInt32);
        return c with { GridHeight = height, GridWidth = width, CodeSize = dim, CodebookSize = size, Codebook = book, BatchSize = batchSize };
    }
}
