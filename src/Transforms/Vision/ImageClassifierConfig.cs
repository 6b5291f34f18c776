using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>Everything an image classifier resolved from its manifest and options; stored in the model zip as explicit fields (v2, v3; JSON in v1).</summary>
internal sealed record ImageClassifierConfig : ImageModelConfig
{
    private static readonly JsonSerializerOptions s_json = new() { IncludeFields = false };

    public string ScoreColumnName { get; init; } = "Score";

    public string PredictedLabelColumnName { get; init; } = "PredictedLabel";

    public string? EmbeddingColumnName { get; init; }

    /// <summary>The raw logits column; null for none (v3 on).</summary>
    public string? LogitsColumnName { get; init; }

    /// <summary>For a [batch, tokens, size] embedding output: how the tokens are pooled (v3 on).</summary>
    public TokenPooling? TokenPooling { get; init; }

    public int TopK { get; init; }

    /// <summary>The energy column (-logsumexp of the logits), or null; stored from v3 on.</summary>
    public string? EnergyColumnName { get; init; }

    public string LogitsTensorName { get; init; } = "";

    public string? EmbeddingTensorName { get; init; }

    public string[] ClassNames { get; init; } = System.Array.Empty<string>();

    /// <summary>The first problem of settings read back from a model zip against the graph saved with them, or null.</summary>
    public string? Problem(OnnxModel model)
    {
        int classCount = model.OutputMetadata.TryGetValue(LogitsTensorName ?? "", out var logits) ? ClassCount(logits.Dimensions) : -1;
        return ModelEntry.First(
            string.IsNullOrEmpty(InputColumnName) || string.IsNullOrEmpty(ScoreColumnName) || string.IsNullOrEmpty(PredictedLabelColumnName) || EnergyColumnName?.Length == 0
                ? "its input, score, predicted-label or energy column name is empty" : null,
            BatchSize < 1 ? $"its batch size is {BatchSize}, not at least 1" : null,
            model.InputMetadata.Count != 1 ? $"the saved ONNX model has {model.InputMetadata.Count} inputs; an image classifier feeds one" : null,
            ModelEntry.MissingTensor("image tensor", ImageTensorName, model.InputMetadata, "input"),
            ModelEntry.MissingTensor("logits tensor", LogitsTensorName, model.OutputMetadata, "output"),
            EmbeddingTensorName != null ? ModelEntry.MissingTensor("embedding tensor", EmbeddingTensorName, model.OutputMetadata, "output") : null,
            TokenPooling is { } pooling && !System.Enum.IsDefined(pooling) ? $"its token pooling {(int)pooling} is unknown" : null,
            EmbeddingTensorName != null && model.OutputMetadata.TryGetValue(EmbeddingTensorName, out var e) && ImageEmbeddingShape.Of(e.Dimensions, TokenPooling, out _) == null
                ? $"its embedding tensor '{EmbeddingTensorName}' has no known size (or tokens without a pooling)" : null,
            LogitsColumnName != null && LogitsColumnName.Length == 0 ? "its logits column name is empty" : null,
            ClassNames == null || ClassNames.Length != classCount || ClassNames.Any(string.IsNullOrEmpty)
                ? $"it has {ClassNames?.Length ?? 0} class names (or an empty one) for the {classCount} classes of the logits '{LogitsTensorName}'" : null,
            TopK < 0 || TopK > (ClassNames?.Length ?? 0) ? $"its TopK {TopK} is not between 0 and the {ClassNames?.Length ?? 0} classes" : null,
            RawPixelWidth < 0 || RawPixelHeight < 0 || RawPixelChannels is not (0 or 1 or 3)
                ? $"its raw pixel size {RawPixelWidth} x {RawPixelHeight} x {RawPixelChannels} is not valid" : null,
            Preprocessing == null ? "it has no preprocessing settings" : Preprocessing.Problem());
    }

    /// <summary>The class count of a logits output: [batch, classes] or [batch, classes, 1, 1]; -1 otherwise.</summary>
    public static int ClassCount(int[] dims) => dims.Length >= 2 && dims[1] > 0 && dims.Skip(2).All(d => d == 1) ? dims[1] : -1;

    /// <summary>Writes the settings as explicit fields: the v3 format (v2 without the preprocessing's v3 fields, the logits column and the token pooling; v1 was this record as JSON).</summary>
    public void Save(ModelSaveContext ctx)
    {
        ctx.SaveNonEmptyString(InputColumnName);
        ctx.SaveNonEmptyString(ScoreColumnName);
        ctx.SaveNonEmptyString(PredictedLabelColumnName);
        ctx.SaveStringOrNull(EmbeddingColumnName);
        ctx.Writer.Write(TopK);
        ctx.SaveStringOrNull(ErrorColumnName);
        ctx.SaveNonEmptyString(ImageTensorName);
        ctx.SaveNonEmptyString(LogitsTensorName);
        ctx.SaveStringOrNull(EmbeddingTensorName);
        ctx.Writer.Write(ClassNames.Length);
        foreach (string item in ClassNames)
        {
            ctx.SaveNonEmptyString(item);
        }
        InputFields.Save(ctx);
        Preprocessing.SaveV3(ctx);
        ctx.SaveStringOrNull(LogitsColumnName);
        ctx.Writer.Write(TokenPooling is { } pooling ? (int)pooling : -1);
    }

    /// <summary>Reads what <see cref="Save"/> wrote (v3), or a v2 entry (<paramref name="v3"/> false); the caller checks <see cref="Problem"/>.</summary>
    public static ImageClassifierConfig Load(ModelLoadContext ctx, bool v3)
    {
        var r = ctx.Reader;
        string inputColumnName = ctx.LoadNonEmptyString();
        string scoreColumnName = ctx.LoadNonEmptyString();
        string predictedLabelColumnName = ctx.LoadNonEmptyString();
        string? embeddingColumnName = ctx.LoadStringOrNull();
        int topK = r.ReadInt32();
        string? errorColumnName = ctx.LoadStringOrNull();
        string imageTensorName = ctx.LoadNonEmptyString();
        string logitsTensorName = ctx.LoadNonEmptyString();
        string? embeddingTensorName = ctx.LoadStringOrNull();
        int classNamesCount = r.ReadInt32();
        ModelEntry.Check(ctx, classNamesCount >= 0, $"its ClassNames count {classNamesCount} is negative");
        var classNames = new string[classNamesCount];
        for (int i = 0; i < classNamesCount; i++)
        {
            classNames[i] = ctx.LoadNonEmptyString();
        }
        var image = ImageInputFields.Load(ctx);
        var preprocessing = v3 ? image.Preprocessing.LoadV3(ctx) : image.Preprocessing;
        string? logitsColumnName = v3 ? ctx.LoadStringOrNull() : null;
        int pooling = v3 ? r.ReadInt32() : -1;
        return (ImageClassifierConfig)new ImageClassifierConfig
        {
            InputColumnName = inputColumnName,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
            EmbeddingColumnName = embeddingColumnName,
            LogitsColumnName = logitsColumnName,
            TokenPooling = pooling >= 0 ? (TokenPooling)pooling : null,
            TopK = topK,
            ErrorColumnName = errorColumnName,
            ImageTensorName = imageTensorName,
            LogitsTensorName = logitsTensorName,
            EmbeddingTensorName = embeddingTensorName,
            ClassNames = classNames,
        }.WithInput(image, preprocessing);
    }

    public static ImageClassifierConfig? FromJson(string json) => JsonSerializer.Deserialize<ImageClassifierConfig>(json, s_json);
}
