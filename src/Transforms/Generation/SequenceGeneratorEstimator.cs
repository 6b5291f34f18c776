using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Generation;

/// <summary>
/// Generates a token sequence for each text (or vector of token ids) with an encoder-decoder Transformer exported as two ONNX
/// graphs (an encoder, and a decoder step with a key/value cache; a <c>seq2seq-generator</c> manifest), or continues it as a
/// prompt with a decoder-only graph (a <c>decoder-generator</c> manifest): greedy search, beam search (width, length penalty,
/// n-best) or sampling (temperature, top-k, top-p, seeded per row). Create it with <c>mlContext.Transforms.GenerateSequenceOnnx</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | String (`Text`), or a vector of Int32 or Int64 (token ids) |
/// | Output column data type | `GeneratedText`: String; `GeneratedTokens`: vector of Int32; `Score`: Single; `Finished`: Boolean; with `NBest` > 1 also `NBestTexts` (vector of String) and `NBestScores` (vector of Single) |
/// | Exportable to ONNX | No |
///
/// The rows of a batch are generated together, each stopping at its own end-of-sequence (decoder-only prompts left-padded and
/// masked). Characters outside the manifest's
/// source symbols become its unknown token (or throw with `RefuseUnknownSymbols`); an empty text generates nothing (empty
/// output, score 0, `Finished` true); a text longer than the manifest's `source.max_length` - 1 throws naming the column, the
/// row and both lengths. docs/generation.md describes the graphs and the search. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class SequenceGeneratorEstimator : OnnxEstimatorBase<SequenceGeneratorTransformer>
{
    internal SequenceGeneratorEstimator(IHostEnvironment env, Options options)
        : base(Build(env, options))
    {
    }

    private static SequenceGeneratorTransformer Build(IHostEnvironment env, Options options)
    {
        var o = Copy(env, options);
        if (string.IsNullOrEmpty(o.ManifestFile))
        {
            ThrowHelper.BadOption(nameof(o.ManifestFile), "Give the generator's manifest (a seq2seq-generator JSON file that names its encoder and decoder graphs).");
        }

        if (!File.Exists(o.ManifestFile))
        {
            throw new FileNotFoundException($"The model manifest '{o.ManifestFile}' does not exist.", o.ManifestFile);
        }

        var graph = GenerationGraph.Parse(File.ReadAllText(o.ManifestFile), $"'{o.ManifestFile}'");
        string folder = Path.GetDirectoryName(Path.GetFullPath(o.ManifestFile))!;
        var config = Resolve(env, o, graph);
        var host = env.Register(nameof(SequenceGeneratorTransformer));
        if (!graph.HasEncoder && (o.EncoderModelFile != null || o.EncoderModelBytes != null))
        {
            ThrowHelper.BadOption(o.EncoderModelFile != null ? nameof(o.EncoderModelFile) : nameof(o.EncoderModelBytes), $"The manifest '{o.ManifestFile}' is a decoder-generator: it has no encoder graph to replace.");
        }

        string encoderName = "";
        byte[]? encoderBytes = graph.HasEncoder
            ? OnnxModel.ReadBytes(o.EncoderModelFile ?? (o.EncoderModelBytes == null ? Path.Combine(folder, graph.EncoderFile) : null), o.EncoderModelBytes, out encoderName, nameof(o.EncoderModelFile))
            : null;
        byte[] decoderBytes = OnnxModel.ReadBytes(o.ModelFile ?? (o.ModelBytes == null ? Path.Combine(folder, graph.DecoderFile) : null), o.ModelBytes, out string decoderName);
        return SequenceGeneratorTransformer.Create(host, graph, config, encoderBytes, encoderName, decoderBytes, decoderName, o.ExecutionSettings, fromSavedModel: false);
    }

    /// <summary>The options over the manifest's defaults; every option that the strategy does not use must keep its default.</summary>
    internal static GenerationConfig Resolve(IHostEnvironment env, Options o, GenerationGraph graph)
    {
        OnnxScoringTransformer.CheckBatchSize(o.BatchSize);
        foreach (var (name, value) in new[] { (nameof(o.InputColumnName), o.InputColumnName), (nameof(o.OutputColumnName), o.OutputColumnName), (nameof(o.TokensColumnName), o.TokensColumnName), (nameof(o.ScoreColumnName), o.ScoreColumnName), (nameof(o.FinishedColumnName), o.FinishedColumnName), (nameof(o.NBestTextsColumnName), o.NBestTextsColumnName), (nameof(o.NBestScoresColumnName), o.NBestScoresColumnName) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                ThrowHelper.BadOption(name, $"{name} must name a column.");
            }
        }

        bool beam = o.Strategy == GenerationStrategy.Beam, sample = o.Strategy == GenerationStrategy.Sample;
        if (!Enum.IsDefined(o.Strategy))
        {
            ThrowHelper.BadOption(nameof(o.Strategy), $"Strategy {(int)o.Strategy} is none of Greedy, Beam, Sample.");
        }

        if (!beam && (o.BeamWidth != 0 || o.LengthPenalty != null || o.NBest != 1))
        {
            ThrowHelper.BadOption(!beam && o.BeamWidth != 0 ? nameof(o.BeamWidth) : o.LengthPenalty != null ? nameof(o.LengthPenalty) : nameof(o.NBest),
                $"BeamWidth, LengthPenalty and NBest are beam search's: set Strategy = Beam to use them (Strategy is {o.Strategy}).");
        }

        if (!sample && (o.Temperature != 1 || o.TopK != 0 || o.TopP != 1 || o.Seed != null))
        {
            ThrowHelper.BadOption(o.Temperature != 1 ? nameof(o.Temperature) : o.TopK != 0 ? nameof(o.TopK) : o.TopP != 1 ? nameof(o.TopP) : nameof(o.Seed),
                $"Temperature, TopK, TopP and Seed are sampling's: set Strategy = Sample to use them (Strategy is {o.Strategy}).");
        }

        int width = beam ? (o.BeamWidth == 0 ? graph.BeamWidth : o.BeamWidth) : 1;
        if (width < 1 || width > 64)
        {
            ThrowHelper.BadOption(nameof(o.BeamWidth), $"BeamWidth must be 1 to 64 (0: the manifest's {graph.BeamWidth}); it is {width}.");
        }

        if (o.NBest < 1 || o.NBest > width)
        {
            ThrowHelper.BadOption(nameof(o.NBest), $"NBest must be 1 to the beam width {width}; it is {o.NBest}.");
        }

        double penalty = o.LengthPenalty ?? graph.LengthPenalty;
        if (!double.IsFinite(penalty))
        {
            ThrowHelper.BadOption(nameof(o.LengthPenalty), $"LengthPenalty must be finite; it is {penalty}.");
        }

        if (!(o.Temperature > 0) || float.IsInfinity(o.Temperature))
        {
            ThrowHelper.BadOption(nameof(o.Temperature), $"Temperature must be positive and finite; it is {o.Temperature}.");
        }

        if (o.TopK < 0)
        {
            ThrowHelper.BadOption(nameof(o.TopK), $"TopK must be 0 (all tokens) or positive; it is {o.TopK}.");
        }

        if (!(o.TopP > 0 && o.TopP <= 1))
        {
            ThrowHelper.BadOption(nameof(o.TopP), $"TopP must be in (0, 1]; it is {o.TopP}.");
        }

        int maxNew = o.MaxNewTokens == 0 ? graph.MaxNewTokens : o.MaxNewTokens;
        if (maxNew < 1 || maxNew > graph.MaxNewTokensLimit)
        {
            string limit = graph.HasEncoder ? "target.max_length - 1" : "target.max_length - source.max_length";
            ThrowHelper.BadOption(nameof(o.MaxNewTokens), $"MaxNewTokens must be 1 to {graph.MaxNewTokensLimit} (the manifest's {limit}; 0: its generation.max_new_tokens {graph.MaxNewTokens}); it is {maxNew}.");
        }

        string[] names = [o.OutputColumnName, o.TokensColumnName, o.ScoreColumnName, o.FinishedColumnName, .. o.NBest > 1 ? new[] { o.NBestTextsColumnName, o.NBestScoresColumnName } : []];
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            ThrowHelper.BadOption(nameof(o.OutputColumnName), $"The output columns must have distinct names: {string.Join(", ", names)}.");
        }

        return new GenerationConfig
        {
            InputColumnName = o.InputColumnName,
            TextColumnName = o.OutputColumnName,
            TokensColumnName = o.TokensColumnName,
            ScoreColumnName = o.ScoreColumnName,
            FinishedColumnName = o.FinishedColumnName,
            NBestTextsColumnName = o.NBestTextsColumnName,
            NBestScoresColumnName = o.NBestScoresColumnName,
            Strategy = o.Strategy,
            BeamWidth = width,
            LengthPenalty = beam ? penalty : 0,
            NBest = o.NBest,
            Temperature = o.Temperature,
            TopK = o.TopK,
            TopP = o.TopP,
            Seed = o.Seed ?? (env as IHostEnvironmentInternal)?.Seed ?? 0,
            MaxNewTokens = maxNew,
            UseCache = o.UseCache,
            RefuseUnknownSymbols = o.RefuseUnknownSymbols,
            BatchSize = o.BatchSize,
        };
    }

    /// <summary>Options of <see cref="SequenceGeneratorEstimator"/>. <see cref="OnnxModelOptions.ModelFile"/> or <see cref="OnnxModelOptions.ModelBytes"/>, when given, replace the decoder graph the manifest names.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The generator's manifest (family <c>seq2seq-generator</c>); its <c>encoder.model_file</c> and <c>decoder.model_file</c> are read beside it. Required.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The encoder graph, instead of the manifest's <c>encoder.model_file</c>. Give this or <see cref="EncoderModelBytes"/>, or neither.</summary>
        public string? EncoderModelFile { get; set; }

        /// <summary>The encoder graph itself, instead of the manifest's <c>encoder.model_file</c>.</summary>
        public byte[]? EncoderModelBytes { get; set; }

        /// <summary>The input column: text (String), or token ids (a vector of Int32 or Int64: source symbol ids, without the end- or start-of-sequence the transform adds). Default <c>Text</c>.</summary>
        public string InputColumnName { get; set; } = "Text";

        /// <summary>The generated text: the best hypothesis's target symbols joined by the manifest's separator. Default <c>GeneratedText</c>.</summary>
        public string OutputColumnName { get; set; } = "GeneratedText";

        /// <summary>The best hypothesis's token ids (Int32 vector, end-of-sequence excluded). Default <c>GeneratedTokens</c>.</summary>
        public string TokensColumnName { get; set; } = "GeneratedTokens";

        /// <summary>The best hypothesis's score: its summed log-probability (beam: divided by length^<see cref="LengthPenalty"/>). Default <c>Score</c>.</summary>
        public string ScoreColumnName { get; set; } = "Score";

        /// <summary>True when the best hypothesis ended with end-of-sequence within <see cref="MaxNewTokens"/>. Default <c>Finished</c>.</summary>
        public string FinishedColumnName { get; set; } = "Finished";

        /// <summary>With <see cref="NBest"/> &gt; 1: the n best texts, best first (empty strings past the hypotheses found). Default <c>NBestTexts</c>.</summary>
        public string NBestTextsColumnName { get; set; } = "NBestTexts";

        /// <summary>With <see cref="NBest"/> &gt; 1: their scores (NaN past the hypotheses found). Default <c>NBestScores</c>.</summary>
        public string NBestScoresColumnName { get; set; } = "NBestScores";

        /// <summary>Greedy (the default), beam search or sampling.</summary>
        public GenerationStrategy Strategy { get; set; }

        /// <summary>Beam search's hypotheses per row; 0 (the default) takes the manifest's <c>generation.beam_width</c>. Beam only.</summary>
        public int BeamWidth { get; set; }

        /// <summary>Beam search's alpha in score = log-probability / length^alpha; null (the default) takes the manifest's. Beam only.</summary>
        public double? LengthPenalty { get; set; }

        /// <summary>Hypotheses returned per row, 1 (the default) to the beam width; above 1 adds the n-best columns. Beam only.</summary>
        public int NBest { get; set; } = 1;

        /// <summary>Sampling's temperature (default 1). Sample only.</summary>
        public float Temperature { get; set; } = 1;

        /// <summary>Sampling keeps the k most probable tokens; 0 (the default) keeps all. Sample only.</summary>
        public int TopK { get; set; }

        /// <summary>Sampling keeps the smallest set of most probable tokens whose probability reaches p; 1 (the default) keeps all. Sample only.</summary>
        public float TopP { get; set; } = 1;

        /// <summary>Sampling's seed, mixed with each row's <c>DataViewRowId</c> (the same row draws the same however it is batched); null: the <c>MLContext</c>'s seed, else 0. Sample only.</summary>
        public int? Seed { get; set; }

        /// <summary>Generated tokens per row at most, end-of-sequence included; 0 (the default) takes the manifest's <c>generation.max_new_tokens</c>.</summary>
        public int MaxNewTokens { get; set; }

        /// <summary>Keep the decoder's keys and values between steps (the default); false recomputes the whole prefix at every step (same output, slower: for measurements).</summary>
        public bool UseCache { get; set; } = true;

        /// <summary>Throw on a character outside the manifest's source symbols, naming the column, the row and the character; false (the default) maps it to the unknown token.</summary>
        public bool RefuseUnknownSymbols { get; set; }

        /// <summary>Rows generated together. Default 64.</summary>
        public int BatchSize { get; set; } = 64;
    }
}
