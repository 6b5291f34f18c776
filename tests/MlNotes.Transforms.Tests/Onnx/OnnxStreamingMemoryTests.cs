using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>Measures managed memory, which other tests running beside it would disturb: runs alone.</summary>
[CollectionDefinition(nameof(OnnxStreamingMemoryTests), DisableParallelization = true)]
public sealed class OnnxStreamingMemoryRunsAlone
{
}

[Collection(nameof(OnnxStreamingMemoryTests))]
public sealed class OnnxStreamingMemoryTests
{
    [Fact]
    public void Streaming_MemoryStaysFlat_WhateverTheRowCount()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Generate(300_000));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.MultiIo, outputColumnNames: new[] { "s" }, batchSize: 256).Fit(data);
        using var cursor = scorer.Transform(data).GetRowCursor(scorer.Transform(data).Schema.Where(c => c.Name == "s"));
        var getter = cursor.GetGetter<long>(cursor.Schema["s"]);
        long sum = 0, value = 0, afterWarmUp = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            sum += value;
            if (cursor.Position == 10_000)
            {
                afterWarmUp = GC.GetTotalMemory(forceFullCollection: true);
            }
        }

        long atEnd = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(300_000L * 3, sum);
        Assert.True(atEnd - afterWarmUp < 2_000_000, $"managed memory grew by {atEnd - afterWarmUp} bytes over 290,000 rows");
        Assert.Equal((300_000 + 255) / 256, scorer.RunCount);

        static IEnumerable<MultiIoRow> Generate(int count)
        {
            for (int i = 0; i < count; i++)
            {
                yield return new MultiIoRow
                {
                    a = new float[4],
                    b = new double[3],
                    c = new int[2],
                    d = new long[] { 1, 1, 1, 0, 0 },
                    m = new[] { true, true, true, true, false },
                };
            }
        }
    }
}
