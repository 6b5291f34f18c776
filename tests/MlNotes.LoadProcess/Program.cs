using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.LoadProcess;

/// <summary>
/// usage: MlNotes.LoadProcess model.zip inputs.bin outputs.bin column
/// inputs.bin: int rows, int width, then rows*width floats (column "image"); outputs.bin: the float vector column, row by row.
/// Nothing but the zip is needed: no MlNotes registration, no model file beside it.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length != 4)
        {
            Console.Error.WriteLine("usage: MlNotes.LoadProcess model.zip inputs.bin outputs.bin column");
            return 2;
        }

        float[][] rows;
        using (var reader = new BinaryReader(File.OpenRead(args[1])))
        {
            int count = reader.ReadInt32();
            int width = reader.ReadInt32();
            rows = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => reader.ReadSingle()).ToArray()).ToArray();
        }

        var ml = new MLContext();
        var model = ml.Model.Load(args[0], out var inputSchema);
        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new Row { image = r }));
        // Getters reuse the caller's buffer: copy each row's values out before the next row is read.
        var scored = model.Transform(data).GetColumn<VBuffer<float>>(args[3]).Select(v => v.DenseValues().ToArray()).ToArray();
        using (var writer = new BinaryWriter(File.Create(args[2])))
        {
            foreach (var value in scored)
            {
                foreach (float v in value)
                {
                    writer.Write(v);
                }
            }
        }

        (model as IDisposable)?.Dispose();
        Console.WriteLine($"scored {scored.Length} rows; saved schema had {inputSchema.Count} columns");
        return 0;
    }

    private sealed class Row
    {
        [VectorType(1, 28, 28)]
        public float[] image { get; set; } = Array.Empty<float>();
    }
}
