using System;
using System.Diagnostics;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Benchmarks;

/// <summary>The timing and cursor-draining helpers shared by the scoring scenarios.</summary>
internal static class Throughput
{
    /// <summary>Runs <paramref name="run"/> once to warm up, then <paramref name="repeats"/> times; returns the best rows/s.</summary>
    public static double Best(int repeats, long rows, Action run)
    {
        run();
        double best = 0;
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            best = Math.Max(best, rows / watch.Elapsed.TotalSeconds);
        }

        return best;
    }

    /// <summary>Reads every row's value of one column through a single cursor.</summary>
    public static void Drain<T>(IDataView view, string column)
    {
        var col = view.Schema[column];
        using var cursor = view.GetRowCursor(new[] { col });
        var getter = cursor.GetGetter<T>(col);
        T value = default!;
        while (cursor.MoveNext())
        {
            getter(ref value);
        }
    }

    /// <summary>Reads every row's vector of one column through a cursor set of <paramref name="n"/> cursors, in parallel.</summary>
    public static void DrainParallel(IDataView view, string column, int n)
    {
        var col = view.Schema[column];
        var cursors = view.GetRowCursorSet(new[] { col }, n);
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(col);
                VBuffer<float> value = default;
                while (cursor.MoveNext())
                {
                    getter(ref value);
                }
            }
        });
    }
}
