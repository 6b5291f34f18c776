using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Text;

/// <summary>
/// Encodes text with an ONNX Transformer encoder (the notes' encoder, a BERT-style export): tokenization with
/// Microsoft.ML.Tokenizers, dynamic padding, batched scoring, pooling into an <c>Embedding</c> and, for classifier graphs,
/// <c>Score</c> and <c>PredictedLabel</c>. Create it with <c>mlContext.Transforms.EncodeTextOnnx</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Text |
/// | Output column data type | `Embedding`: known-size vector of Single; for classifiers `Score` (softmax, class names as slot names) and `PredictedLabel` (key type with the class names); optionally token states (variable-size vector of Single, tokens x dimension) |
/// | Exportable to ONNX | No |
///
/// Each text becomes `[CLS] pieces [SEP]` (WordPiece over a `vocab.txt`; SentencePiece over a `.model`, `<s> pieces </s>`, T5 without
/// the start; byte-level BPE over `vocab.json` and `merges.txt`, RoBERTa's `<s> pieces </s>`, GPT-2 without either), cut to `MaxLength`
/// tokens (the pieces are cut, the special tokens kept; `TruncatedCount` counts them). A null or empty text encodes to the special
/// tokens alone. Characters outside the vocab map to the unknown token (a run of them to one, as SentencePiece does). `ModelFolder`
/// reads a sentence-transformers or Optimum export folder: graph, tokenizer, pooling and normalization. Rows are sorted by length inside a window of `SortWindow` batches, each run is padded to its own longest row
/// with the attention mask set, and results come back in the input order: a text's embedding does not depend on its neighbours.
/// Pooling: the graph's own pooled output, CLS, masked mean, masked max, mean times sqrt(length), or end of text; `Normalize` L2-normalizes.
///
/// The tokenizer files and the manifest are saved inside the model zip. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class OnnxTextEncoderEstimator : OnnxEstimatorBase<OnnxTextEncoderTransformer>
{
    internal OnnxTextEncoderEstimator(IHostEnvironment env, Options options)
        : base(new OnnxTextEncoderTransformer(env, Copy(env, options)))
    {
    }

    /// <summary>Options of <see cref="OnnxTextEncoderEstimator"/>. Unset values come from the manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The model's manifest. Default: the .json beside <see cref="OnnxModelOptions.ModelFile"/>, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>
        /// An exported model folder (sentence-transformers, Hugging Face Optimum): its <c>model.onnx</c> (or <c>onnx/model.onnx</c>),
        /// its tokenizer files and <c>tokenizer_config.json</c>/<c>special_tokens_map.json</c>, its pooling
        /// (<c>modules.json</c>, <c>1_Pooling/config.json</c>) and a <c>Normalize</c> module. Options and a manifest override it.
        /// </summary>
        public string? ModelFolder { get; set; }

        /// <summary>
        /// The tokenizer's vocab: a BERT <c>vocab.txt</c>, a SentencePiece <c>.model</c>, or a byte-level BPE <c>vocab.json</c>.
        /// Default: the manifest's tokenizer vocab_file (relative to the manifest), else the model folder's.
        /// </summary>
        public string? VocabFile { get; set; }

        /// <summary>A byte-level BPE's <c>merges.txt</c>. Default: the manifest's tokenizer merges_file, else the model folder's.</summary>
        public string? MergesFile { get; set; }

        /// <summary>
        /// The tokenizer. Default: the manifest's tokenizer kind, else the model folder's, else by the vocab's name
        /// (<c>.model</c>: SentencePiece, <c>.json</c>: byte-level BPE, otherwise WordPiece).
        /// </summary>
        public TextTokenizerKind? Tokenizer { get; set; }

        /// <summary>The text column.</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The embedding column.</summary>
        public string EmbeddingColumnName { get; set; } = Defaults.EmbeddingColumnName;

        /// <summary>The probabilities column (classifier graphs).</summary>
        public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

        /// <summary>The predicted label column (classifier graphs).</summary>
        public string PredictedLabelColumnName { get; set; } = Defaults.PredictedLabelColumnName;

        /// <summary>When set, a column with the token states (tokens x dimension, pads excluded).</summary>
        public string? TokenEmbeddingsColumnName { get; set; }

        /// <summary>How token states become the embedding. Default: the manifest's (the graph's own pooled output where it names one).</summary>
        public TextPooling? Pooling { get; set; }

        /// <summary>L2-normalize the embedding (also when a model folder's modules.json has a Normalize module).</summary>
        public bool Normalize { get; set; }

        /// <summary>Tokens per text, the start and end tokens included. Default: the manifest's, the folder's, or 512.</summary>
        public int? MaxLength { get; set; }

        /// <summary>Lower-case before tokenizing. Default: the manifest's, the folder's, else true for WordPiece and false for the others.</summary>
        public bool? LowerCase { get; set; }

        /// <summary>Class names of a classifier graph. Default: the manifest's labels. Refused on a graph without a logits output.</summary>
        public string[]? ClassNames { get; set; }

        /// <summary>Graph input for the token ids. Default: the manifest's input_ids role, or "input_ids".</summary>
        public string? InputIdsTensorName { get; set; }

        /// <summary>Graph input for the attention mask. Default: "attention_mask" when the graph has it.</summary>
        public string? AttentionMaskTensorName { get; set; }

        /// <summary>Graph input for the token type ids (all 0 for one text). Default: "token_type_ids" when the graph has it.</summary>
        public string? TokenTypeIdsTensorName { get; set; }

        /// <summary>Graph output with the token states. Default: "last_hidden_state" when the graph has it.</summary>
        public string? HiddenStateTensorName { get; set; }

        /// <summary>Graph output with a pooled vector. Default: the manifest's pooling output.</summary>
        public string? PooledTensorName { get; set; }

        /// <summary>Graph output with class logits. Default: "logits" when the graph has it.</summary>
        public string? LogitsTensorName { get; set; }

        /// <summary>Texts per ONNX Runtime run.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;

        /// <summary>Batches read ahead and sorted by length together (1: no sorting).</summary>
        public int SortWindow { get; set; } = Defaults.SortWindow;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The text column.</summary>
        public const string InputColumnName = "Text";

        /// <summary>The embedding column.</summary>
        public const string EmbeddingColumnName = "Embedding";

        /// <summary>The probabilities column.</summary>
        public const string ScoreColumnName = "Score";

        /// <summary>The predicted label column.</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>Texts per run.</summary>
        public const int BatchSize = 32;

        /// <summary>Batches sorted together.</summary>
        public const int SortWindow = 4;
    }
}
