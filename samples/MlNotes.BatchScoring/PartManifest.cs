using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json;

namespace MlNotes.BatchScoring;

/// <summary>
/// What one shard wrote, written beside its part last and atomically (to a temporary name, flushed, then renamed): a manifest exists
/// only for a part that is complete. <c>verify</c> reads them all.
/// </summary>
public sealed record PartManifest
{
    public const string CurrentFormat = "mlnotes-score-part/1";

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    public string Format { get; init; } = CurrentFormat;

    public int Shard { get; init; }

    public int Shards { get; init; }

    public string Part { get; init; } = "";

    public long Rows { get; init; }

    public string Sha256 { get; init; } = "";

    public string Model { get; init; } = "";

    public string ModelSha256 { get; init; } = "";

    public string Input { get; init; } = "";

    public long InputRows { get; init; }

    public IReadOnlyList<InputFile> InputFiles { get; init; } = [];

    /// <summary>The input rows this shard scored: <c>RowIndex % Shards == Shard</c> over <c>0 &lt;= RowIndex &lt; InputRows</c>.</summary>
    public string RowSelection { get; init; } = "";

    public long FirstRowIndex { get; init; }

    public long LastRowIndex { get; init; }

    public IReadOnlyList<string> Columns { get; init; } = [];

    public static string PartName(int shard) => $"part-{shard:D5}.parquet";

    public static string ManifestName(int shard) => $"part-{shard:D5}.json";

    /// <summary>How many of <paramref name="inputRows"/> rows fall to shard <paramref name="shard"/> of <paramref name="shards"/>.</summary>
    public static long ExpectedRows(long inputRows, int shard, int shards) => inputRows > shard ? ((inputRows - shard - 1) / shards) + 1 : 0;

    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static PartManifest Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<PartManifest>(File.ReadAllText(path)) ?? throw new InvalidDataException($"The manifest '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The manifest '{path}' is not a part manifest: {e.Message}", e);
        }
    }

    public void Write(string path)
    {
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, this, s_indented);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
