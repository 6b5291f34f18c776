using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Tests.Vae;

/// <summary>The PyTorch reference rows of the notes' VAE (models-onnx/fixtures/vae-fashion-*.json) and helpers to feed them.</summary>
internal static class VaeFixture
{
    private static readonly Lazy<JsonElement> s_encoder = new(() => Load("vae-fashion-encoder"));
    private static readonly Lazy<JsonElement> s_decoder = new(() => Load("vae-fashion-decoder"));

    public static string EncoderFile => RepoPaths.Model("vae-fashion-encoder.onnx");

    public static string DecoderFile => RepoPaths.Model("vae-fashion-decoder.onnx");

    public static int Rows => Encoder("inputs", "image").Length / ImageSize;

    public static int ImageSize => 28 * 28;

    public static int LatentSize => Encoder("outputs", "mean").Length / Rows;

    /// <summary>A tensor of the encoder fixture, flat: ("inputs", "image"), ("outputs", "mean"), ("eps", null), ...</summary>
    public static float[] Encoder(string kind, string? name) => Read(s_encoder.Value, kind, name);

    public static float[] Decoder(string kind, string? name) => Read(s_decoder.Value, kind, name);

    public static float[] Row(float[] flat, int row, int size) => flat.Skip(row * size).Take(size).ToArray();

    public static string[] ImageFiles => s_encoder.Value.GetProperty("images").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToArray();

    /// <summary>The fixture's images as pixel vectors (already /255) with the fixture's eps as a noise column.</summary>
    public static IDataView PixelRows(MLContext ml)
    {
        var images = Encoder("inputs", "image");
        var eps = Encoder("eps", null);
        var rows = Enumerable.Range(0, Rows).Select(i => new PixelRow { Image = Row(images, i, ImageSize), Eps = Row(eps, i, LatentSize) });
        return ml.Data.LoadFromEnumerable(rows, SchemaFor(ImageSize, LatentSize));
    }

    public static SchemaDefinition SchemaFor(int imageSize, int epsSize)
    {
        var schema = SchemaDefinition.Create(typeof(PixelRow));
        schema[nameof(PixelRow.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, imageSize);
        schema[nameof(PixelRow.Eps)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, epsSize);
        return schema;
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    private static JsonElement Load(string name)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepoPaths.Model(Path.Combine("fixtures", name + ".json"))));
        return document.RootElement.Clone();
    }

    private static float[] Read(JsonElement root, string kind, string? name)
    {
        var element = root.GetProperty(kind);
        if (name != null)
        {
            element = element.GetProperty(name);
        }

        return element.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }

    public sealed class PixelRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public float[] Eps { get; set; } = Array.Empty<float>();
    }
}
