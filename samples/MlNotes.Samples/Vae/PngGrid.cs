using System;
using System.Collections.Generic;
using Microsoft.ML.Data;

namespace MlNotes.Samples.Vae;

/// <summary>Writes square grey images (values in [0, 1]) as one PNG grid, scaled up so that a person can see them.</summary>
public static class PngGrid
{
    private const int Scale = 3;
    private const int Gap = 2;

    public static void Write(string path, IReadOnlyList<float[]> images, int columns)
    {
        ArgumentNullException.ThrowIfNull(images);
        int side = (int)Math.Round(Math.Sqrt(images[0].Length));
        int rows = (images.Count + columns - 1) / columns;
        int cell = (side * Scale) + Gap;
        int width = (columns * cell) + Gap, height = (rows * cell) + Gap;
        var rgba = new byte[width * height * 4];
        Array.Fill(rgba, (byte)255); // White gaps, opaque.
        for (int n = 0; n < images.Count; n++)
        {
            int left = Gap + (n % columns * cell), top = Gap + (n / columns * cell);
            for (int y = 0; y < side * Scale; y++)
            {
                for (int x = 0; x < side * Scale; x++)
                {
                    float value = images[n][((y / Scale) * side) + (x / Scale)];
                    // Fashion-MNIST is light on dark: draw it dark on light paper.
                    byte grey = (byte)Math.Clamp(MathF.Round(255 * (1 - value)), 0, 255);
                    int offset = (((top + y) * width) + left + x) * 4;
                    rgba[offset] = rgba[offset + 1] = rgba[offset + 2] = grey;
                }
            }
        }

        using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
        image.Save(path);
    }
}
