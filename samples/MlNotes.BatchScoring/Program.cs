using System;

namespace MlNotes.BatchScoring;

/// <summary>
/// dotnet run -c Release --project samples/MlNotes.BatchScoring -- --model model.zip --input data.csv --output scores.csv
///     [--batch-size 256] [--provider cpu|cuda] [--shard i/n] [--resume] [--no-progress] [--checkpoint-rows 10000]
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        BatchScoringOptions options;
        try
        {
            options = BatchScoringOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or System.IO.FileNotFoundException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("usage: MlNotes.BatchScoring --model model.zip --input data.csv|image-folder --output scores.csv [--batch-size N] [--provider cpu|cuda] [--shard i/n] [--resume]");
            return 2;
        }

        BatchScorer.Run(options, Console.Error);
        return 0;
    }
}
