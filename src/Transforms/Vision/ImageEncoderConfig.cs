using System.Text.Json;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>Everything an image encoder resolved from its manifest and options; stored in the model zip as explicit fields (v2, v3; JSON in v1).</summary>
internal sealed record ImageEncoderConfig : ImageModelConfig
{
    public string OutputColumnName { get; init; } = "ImageEmbedding";

    public string EmbeddingTensorName { get; init; } = "";

    public bool Normalize { get; init; }

    /// <summary>For a [batch, tokens, size] output: how the tokens are pooled (v3 on).</summary>
    public TokenPooling? TokenPooling { get; init; }

    /// <summary>The first problem of settings read back from a model zip against the graph saved with them, or null.</summary>
    public string? Problem(OnnxModel model)
    {
        int size = model.OutputMetadata.TryGetValue(EmbeddingTensorName ?? "", out var embedding)
            ? ImageEmbeddingShape.Of(embedding.Dimensions, TokenPooling, out _)?.Size ?? -1 : -1;
        return ModelEntry.First(
            string.IsNullOrEmpty(InputColumnName) || string.IsNullOrEmpty(OutputColumnName) ? "its input or output column name is empty" : null,
            BatchSize < 1 ? $"its batch size is {BatchSize}, not at least 1" : null,
            model.InputMetadata.Count != 1 ? $"the saved ONNX model has {model.InputMetadata.Count} inputs; an image encoder feeds one" : null,
            ModelEntry.MissingTensor("image tensor", ImageTensorName, model.InputMetadata, "input"),
            ModelEntry.MissingTensor("embedding tensor", EmbeddingTensorName, model.OutputMetadata, "output"),
            TokenPooling is { } pooling && !System.Enum.IsDefined(pooling) ? $"its token pooling {(int)pooling} is unknown" : null,
            size < 1 ? $"its embedding tensor '{EmbeddingTensorName}' has no known size (or tokens without a pooling)" : null,
            RawPixelWidth < 0 || RawPixelHeight < 0 || RawPixelChannels is not (0 or 1 or 3)
                ? $"its raw pixel size {RawPixelWidth} x {RawPixelHeight} x {RawPixelChannels} is not valid" : null,
            Preprocessing == null ? "it has no preprocessing settings" : Preprocessing.Problem());
    }

    /// <summary>Writes the settings as explicit fields: the v3 format (v2 without the preprocessing's v3 fields and the token pooling; v1 was this record as JSON).</summary>
    public void Save(ModelSaveContext ctx)
    {
        ctx.SaveNonEmptyString(InputColumnName);
        ctx.SaveNonEmptyString(OutputColumnName);
        ctx.SaveStringOrNull(ErrorColumnName);
        ctx.SaveNonEmptyString(ImageTensorName);
        ctx.SaveNonEmptyString(EmbeddingTensorName);
        ctx.Writer.Write(Normalize);
        InputFields.Save(ctx);
        Preprocessing.SaveV3(ctx);
        ctx.Writer.Write(TokenPooling is { } pooling ? (int)pooling : -1);
    }

    /// <summary>Reads what <see cref="Save"/> wrote (v3), or a v2 entry (<paramref name="v3"/> false); the caller checks <see cref="Problem"/>.</summary>
    public static ImageEncoderConfig Load(ModelLoadContext ctx, bool v3)
    {
        var r = ctx.Reader;
        string inputColumnName = ctx.LoadNonEmptyString();
        string outputColumnName = ctx.LoadNonEmptyString();
        string? errorColumnName = ctx.LoadStringOrNull();
        string imageTensorName = ctx.LoadNonEmptyString();
        string embeddingTensorName = ctx.LoadNonEmptyString();
        bool normalize = r.ReadBoolean();
        var image = ImageInputFields.Load(ctx);
        var preprocessing = v3 ? image.Preprocessing.LoadV3(ctx) : image.Preprocessing;
        int pooling = v3 ? r.ReadInt32() : -1;
        return (ImageEncoderConfig)new ImageEncoderConfig
        {
            InputColumnName = inputColumnName,
            OutputColumnName = outputColumnName,
            ErrorColumnName = errorColumnName,
            ImageTensorName = imageTensorName,
            EmbeddingTensorName = embeddingTensorName,
            Normalize = normalize,
            TokenPooling = pooling >= 0 ? (TokenPooling)pooling : null,
        }.WithInput(image, preprocessing);
    }

    public static ImageEncoderConfig? FromJson(string json) => JsonSerializer.Deserialize<ImageEncoderConfig>(json);
}
