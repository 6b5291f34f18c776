namespace MlNotes.Transforms.Text;

/// <summary>The tokenizer a text encoder runs before its graph (Microsoft.ML.Tokenizers underneath each).</summary>
public enum TextTokenizerKind
{
    /// <summary>BERT's WordPiece over a <c>vocab.txt</c> (BERT, MiniLM, MPNet, E5 English): <c>[CLS] pieces [SEP]</c>.</summary>
    WordPiece = 0,

    /// <summary>
    /// A SentencePiece unigram or BPE <c>.model</c> (XLM-R and multilingual-e5: <c>sentencepiece.bpe.model</c>, with fairseq's
    /// id offset; T5: <c>spiece.model</c>): <c>&lt;s&gt; pieces &lt;/s&gt;</c> where the model has them.
    /// </summary>
    SentencePiece = 1,

    /// <summary>
    /// Byte-level BPE over <c>vocab.json</c> and <c>merges.txt</c> (RoBERTa, GPT-2): GPT-2's pre-tokenizer and byte map;
    /// RoBERTa's <c>&lt;s&gt; pieces &lt;/s&gt;</c> where the vocab has them.
    /// </summary>
    ByteLevelBpe = 2,
}
