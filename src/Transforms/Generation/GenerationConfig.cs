using System;
using System.Globalization;
using Microsoft.ML;

namespace MlNotes.Transforms.Generation;

/// <summary>How <c>GenerateSequenceOnnx</c> chooses each next token.</summary>
public enum GenerationStrategy
{
    /// <summary>The most probable token (the lowest id on a tie).</summary>
    Greedy = 0,

    /// <summary>Beam search: <c>BeamWidth</c> hypotheses per row, scored by log-probability / length^<c>LengthPenalty</c>.</summary>
    Beam = 1,

    /// <summary>A draw from softmax(logits / <c>Temperature</c>), restricted by <c>TopK</c> and <c>TopP</c>, seeded per row.</summary>
    Sample = 2,
}

/// <summary>The resolved settings of a generator: the options over the manifest's defaults, checked once.</summary>
internal sealed record GenerationConfig
{
    public string InputColumnName { get; init; } = "";

    public string TextColumnName { get; init; } = "";

    public string TokensColumnName { get; init; } = "";

    public string ScoreColumnName { get; init; } = "";

    public string FinishedColumnName { get; init; } = "";

    public string NBestTextsColumnName { get; init; } = "";

    public string NBestScoresColumnName { get; init; } = "";

    public GenerationStrategy Strategy { get; init; }

    public int BeamWidth { get; init; } = 1;

    public double LengthPenalty { get; init; }

    public int NBest { get; init; } = 1;

    public double Temperature { get; init; } = 1;

    public int TopK { get; init; }

    public double TopP { get; init; } = 1;

    public int Seed { get; init; }

    public int MaxNewTokens { get; init; }

    public bool UseCache { get; init; } = true;

    public bool RefuseUnknownSymbols { get; init; }

    public int BatchSize { get; init; }

    /// <summary>Writes the fields in order (v1 of the format).</summary>
    public void Save(ModelSaveContext ctx)
    {
        var w = ctx.Writer;
        foreach (string s in new[] { InputColumnName, TextColumnName, TokensColumnName, ScoreColumnName, FinishedColumnName, NBestTextsColumnName, NBestScoresColumnName })
        {
            w.Write(s);
        }

        w.Write((int)Strategy);
        w.Write(BeamWidth);
        w.Write(LengthPenalty);
        w.Write(NBest);
        w.Write(Temperature);
        w.Write(TopK);
        w.Write(TopP);
        w.Write(Seed);
        w.Write(MaxNewTokens);
        w.Write(UseCache);
        w.Write(RefuseUnknownSymbols);
        w.Write(BatchSize);
    }

    public static GenerationConfig Load(ModelLoadContext ctx)
    {
        var r = ctx.Reader;
        return new GenerationConfig
        {
            InputColumnName = r.ReadString(),
            TextColumnName = r.ReadString(),
            TokensColumnName = r.ReadString(),
            ScoreColumnName = r.ReadString(),
            FinishedColumnName = r.ReadString(),
            NBestTextsColumnName = r.ReadString(),
            NBestScoresColumnName = r.ReadString(),
            Strategy = (GenerationStrategy)r.ReadInt32(),
            BeamWidth = r.ReadInt32(),
            LengthPenalty = r.ReadDouble(),
            NBest = r.ReadInt32(),
            Temperature = r.ReadDouble(),
            TopK = r.ReadInt32(),
            TopP = r.ReadDouble(),
            Seed = r.ReadInt32(),
            MaxNewTokens = r.ReadInt32(),
            UseCache = r.ReadBoolean(),
            RefuseUnknownSymbols = r.ReadBoolean(),
            BatchSize = r.ReadInt32(),
        };
    }

    /// <summary>What is wrong with a loaded config for <paramref name="graph"/>, or null.</summary>
    public string? Problem(GenerationGraph graph)
    {
        if (!Enum.IsDefined(Strategy))
        {
            return $"the strategy {(int)Strategy} is none of Greedy, Beam, Sample";
        }

        if (string.IsNullOrEmpty(InputColumnName) || string.IsNullOrEmpty(TextColumnName) || string.IsNullOrEmpty(TokensColumnName) || string.IsNullOrEmpty(ScoreColumnName) || string.IsNullOrEmpty(FinishedColumnName))
        {
            return "a column name is empty";
        }

        if (BeamWidth < 1 || NBest < 1 || NBest > BeamWidth || (Strategy != GenerationStrategy.Beam && BeamWidth != 1))
        {
            return $"beam width {BeamWidth} and n-best {NBest} do not fit the strategy {Strategy}";
        }

        if (!(Temperature > 0) || double.IsInfinity(Temperature) || TopK < 0 || !(TopP > 0 && TopP <= 1) || !double.IsFinite(LengthPenalty))
        {
            return string.Create(CultureInfo.InvariantCulture, $"temperature {Temperature}, top-k {TopK}, top-p {TopP} or length penalty {LengthPenalty} is out of range");
        }

        if (MaxNewTokens < 1 || MaxNewTokens > graph.MaxNewTokensLimit || BatchSize < 1)
        {
            return $"max new tokens {MaxNewTokens} is not in 1..{graph.MaxNewTokensLimit}, or batch size {BatchSize} is not positive";
        }

        return null;
    }
}
