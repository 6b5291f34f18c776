namespace MlNotes.Transforms.Text;

/// <summary>How the token states of a text become one embedding.</summary>
public enum TextPooling
{
    /// <summary>The graph's own pooled output (the manifest's pooling output or PooledTensorName); refused when the graph has none named.</summary>
    Graph = 0,

    /// <summary>The first token's state ([CLS]).</summary>
    Cls = 1,

    /// <summary>The mean over the text's tokens (pads excluded).</summary>
    Mean = 2,

    /// <summary>The element-wise maximum over the text's tokens (pads excluded).</summary>
    Max = 3,

    /// <summary>The sum over the tokens divided by the square root of their count (sentence-transformers' mean_sqrt_len_tokens).</summary>
    MeanSqrtLength = 4,

    /// <summary>The last token's state ([SEP], the end of text), as CLIP's text tower pools.</summary>
    EndOfText = 5,
}
