using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SkiaSharp;

namespace MlNotes.Samples.Report;

/// <summary>The tour's pictures that are not images of the data: confusion matrices and training curves, as PNG.</summary>
public static class Charts
{
    /// <summary>A confusion matrix: rows the true class, columns the predicted one, cells shaded by the share of their row.</summary>
    public static void ConfusionMatrix(string path, string title, IReadOnlyList<IReadOnlyList<double>> counts, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classes);
        const int Cell = 44, Left = 130, Top = 84;
        int n = classes.Count;
        int width = Left + (n * Cell) + 20, height = Top + (n * Cell) + 120;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        Text(canvas, title, width / 2f, 28, 16, SKTextAlign.Center);
        Text(canvas, "predicted", Left + (n * Cell / 2f), Top - 12, 13, SKTextAlign.Center);
        for (int r = 0; r < n; r++)
        {
            double total = Math.Max(1, counts[r].Sum());
            Text(canvas, classes[r], Left - 8, Top + (r * Cell) + (Cell / 2f) + 5, 12, SKTextAlign.Right);
            for (int c = 0; c < n; c++)
            {
                double share = counts[r][c] / total;
                byte shade = (byte)Math.Round(255 * (1 - share));
                using var fill = new SKPaint { Color = r == c ? new SKColor(shade, shade, 255) : new SKColor(255, shade, shade), Style = SKPaintStyle.Fill };
                var rect = new SKRect(Left + (c * Cell), Top + (r * Cell), Left + ((c + 1) * Cell), Top + ((r + 1) * Cell));
                canvas.DrawRect(rect, fill);
                using var border = new SKPaint { Color = SKColors.LightGray, Style = SKPaintStyle.Stroke };
                canvas.DrawRect(rect, border);
                if (counts[r][c] > 0)
                {
                    Text(canvas, counts[r][c].ToString("0", System.Globalization.CultureInfo.InvariantCulture), rect.MidX, rect.MidY + 5, 12, SKTextAlign.Center, share > 0.6 ? SKColors.White : SKColors.Black);
                }
            }
        }

        // Column labels, rotated under the matrix.
        for (int c = 0; c < n; c++)
        {
            canvas.Save();
            float x = Left + (c * Cell) + (Cell / 2f) + 4, y = Top + (n * Cell) + 8;
            canvas.RotateDegrees(-60, x, y);
            Text(canvas, classes[c], x, y, 12, SKTextAlign.Right);
            canvas.Restore();
        }

        Save(surface, path);
    }

    /// <summary>Line charts of one or more series against the epoch, each scaled to its own range and labelled.</summary>
    public static void Curves(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        const int Width = 720, PanelHeight = 200, Margin = 60;
        int height = (series.Count * (PanelHeight + 30)) + 60;
        using var surface = SKSurface.Create(new SKImageInfo(Width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        Text(canvas, title, Width / 2f, 28, 16, SKTextAlign.Center);
        for (int s = 0; s < series.Count; s++)
        {
            var (name, values) = series[s];
            float top = 50 + (s * (PanelHeight + 30)), bottom = top + PanelHeight - 30, left = Margin, right = Width - 20;
            using var axis = new SKPaint { Color = SKColors.Gray, Style = SKPaintStyle.Stroke, IsAntialias = true };
            canvas.DrawLine(left, bottom, right, bottom, axis);
            canvas.DrawLine(left, top, left, bottom, axis);
            Text(canvas, name, left + 6, top + 12, 13, SKTextAlign.Left);
            if (values.Count == 0)
            {
                continue;
            }

            double min = values.Min(), max = values.Max();
            if (max - min < 1e-12)
            {
                max = min + 1;
            }

            Text(canvas, max.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), left - 4, top + 5, 11, SKTextAlign.Right);
            Text(canvas, min.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), left - 4, bottom, 11, SKTextAlign.Right);
            Text(canvas, $"epoch {values.Count}", right, bottom + 16, 11, SKTextAlign.Right);
            Text(canvas, "1", left, bottom + 16, 11, SKTextAlign.Center);
            using var line = new SKPaint { Color = new SKColor(31, 119, 180), Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true };
            using var pathLine = new SKPath();
            for (int i = 0; i < values.Count; i++)
            {
                float x = values.Count == 1 ? left : left + ((right - left) * i / (values.Count - 1f));
                float y = bottom - (float)((values[i] - min) / (max - min) * (bottom - top - 10));
                if (i == 0)
                {
                    pathLine.MoveTo(x, y);
                }
                else
                {
                    pathLine.LineTo(x, y);
                }
            }

            canvas.DrawPath(pathLine, line);
        }

        Save(surface, path);
    }

    public static void Text(SKCanvas canvas, string text, float x, float y, float size, SKTextAlign align, SKColor? color = null)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        using var paint = new SKPaint { Color = color ?? SKColors.Black, IsAntialias = true, TextSize = size, TextAlign = align, Typeface = SKTypeface.Default };
        canvas.DrawText(text, x, y, paint);
    }

    private static void Save(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }
}
