using Microsoft.ML;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// The fields the image models' settings share, in the order their v2 formats write them after their own: preprocessing, the
/// raw pixel size, the batch size, the image folder and the path column named in messages.
/// </summary>
internal readonly record struct ImageInputFields(
    ImagePreprocessingSettings Preprocessing, int RawPixelWidth, int RawPixelHeight, int RawPixelChannels, int BatchSize, string? ImageFolder, string? ImagePathColumnName)
{
    public void Save(ModelSaveContext ctx)
    {
        Preprocessing.Save(ctx);
        ctx.Writer.Write(RawPixelWidth);
        ctx.Writer.Write(RawPixelHeight);
        ctx.Writer.Write(RawPixelChannels);
        ctx.Writer.Write(BatchSize);
        ctx.SaveStringOrNull(ImageFolder);
        ctx.SaveStringOrNull(ImagePathColumnName);
    }

    public static ImageInputFields Load(ModelLoadContext ctx)
    {
        var preprocessing = ImagePreprocessingSettings.Load(ctx);
        var r = ctx.Reader;
        int width = r.ReadInt32(), height = r.ReadInt32(), channels = r.ReadInt32(), batchSize = r.ReadInt32();
        return new(preprocessing, width, height, channels, batchSize, ctx.LoadStringOrNull(), ctx.LoadStringOrNull());
    }
}
