using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SkiaSharp;

namespace MlNotes.Samples.Mdn;

/// <summary>Draws data, the predicted mean, the prediction interval and the mixture components into a PNG.</summary>
public static class MdnPlot
{
    private const int Width = 900;
    private const int Height = 600;
    private const float Margin = 70;

    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<MdnModelInput> data,
        IReadOnlyList<(float X, MdnModelOutput Prediction)> curve)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(curve);
        float xMin = Math.Min(data.Min(r => r.X), curve.Min(c => c.X));
        float xMax = Math.Max(data.Max(r => r.X), curve.Max(c => c.X));
        float yMin = Math.Min(data.Min(r => r.Label), curve.Min(c => c.Prediction.LowerBound));
        float yMax = Math.Max(data.Max(r => r.Label), curve.Max(c => c.Prediction.UpperBound));
        float padY = 0.05f * (yMax - yMin);
        yMin -= padY;
        yMax += padY;
        float Px(float x) => Margin + (x - xMin) / (xMax - xMin) * (Width - 2 * Margin);
        float Py(float y) => Height - Margin - (y - yMin) / (yMax - yMin) * (Height - 2 * Margin);

        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true, StrokeWidth = 1 };

        // Interval band.
        using (var band = new SKPath())
        {
            band.MoveTo(Px(curve[0].X), Py(curve[0].Prediction.UpperBound));
            foreach (var (x, p) in curve)
            {
                band.LineTo(Px(x), Py(p.UpperBound));
            }

            foreach (var (x, p) in curve.Reverse())
            {
                band.LineTo(Px(x), Py(p.LowerBound));
            }

            band.Close();
            using var fill = new SKPaint { Color = new SKColor(70, 130, 220, 60), IsAntialias = true, Style = SKPaintStyle.Fill };
            canvas.DrawPath(band, fill);
        }

        // Data.
        using (var dot = new SKPaint { Color = new SKColor(90, 90, 90, 140), IsAntialias = true })
        {
            foreach (var row in data)
            {
                canvas.DrawCircle(Px(row.X), Py(row.Label), 2.5f, dot);
            }
        }

        // Components: one dot per component mean, its opacity the component's weight.
        var palette = new[] { new SKColor(230, 100, 20), new SKColor(40, 160, 60), new SKColor(170, 40, 160), new SKColor(200, 30, 30), new SKColor(20, 150, 170) };
        foreach (var (x, p) in curve)
        {
            for (int k = 0; k < p.MixtureWeights.Length; k++)
            {
                var color = palette[k % palette.Length].WithAlpha((byte)(40 + 215 * Math.Clamp(p.MixtureWeights[k], 0, 1)));
                using var paint = new SKPaint { Color = color, IsAntialias = true };
                canvas.DrawCircle(Px(x), Py(p.MixtureMeans[k]), 2f, paint);
            }
        }

        // Mean.
        using (var line = new SKPaint { Color = new SKColor(20, 60, 200), IsAntialias = true, StrokeWidth = 2.5f, Style = SKPaintStyle.Stroke })
        using (var meanPath = new SKPath())
        {
            meanPath.MoveTo(Px(curve[0].X), Py(curve[0].Prediction.Score));
            foreach (var (x, p) in curve.Skip(1))
            {
                meanPath.LineTo(Px(x), Py(p.Score));
            }

            canvas.DrawPath(meanPath, line);
        }

        // Axes, ticks, labels, legend.
        canvas.DrawLine(Margin, Height - Margin, Width - Margin, Height - Margin, ink);
        canvas.DrawLine(Margin, Margin, Margin, Height - Margin, ink);
        for (int i = 0; i <= 5; i++)
        {
            float x = xMin + i * (xMax - xMin) / 5;
            float y = yMin + i * (yMax - yMin) / 5;
            canvas.DrawLine(Px(x), Height - Margin, Px(x), Height - Margin + 5, ink);
            Text(canvas, x.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture), Px(x), Height - Margin + 22, 14, SKTextAlign.Center);
            canvas.DrawLine(Margin - 5, Py(y), Margin, Py(y), ink);
            Text(canvas, y.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture), Margin - 8, Py(y) + 5, 14, SKTextAlign.Right);
        }

        Text(canvas, title, Width / 2f, Margin / 2, 18, SKTextAlign.Center);
        Text(canvas, xLabel, Width / 2f, Height - 20, 14, SKTextAlign.Center);
        canvas.Save();
        canvas.RotateDegrees(-90, 20, Height / 2f);
        Text(canvas, yLabel, 20, Height / 2f, 14, SKTextAlign.Center);
        canvas.Restore();
        Text(canvas, "grey: data   blue line: mean   band: 90% interval   dots: component means (opacity = weight)", Width - Margin, Margin - 8, 13, SKTextAlign.Right);

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static void Text(SKCanvas canvas, string text, float x, float y, float size, SKTextAlign align) => Report.Charts.Text(canvas, text, x, y, size, align);
}
