namespace MlNotes.Serving.Sample;

/// <summary>One image to classify: the encoded bytes (PNG, JPEG, ...) of the request body.</summary>
public sealed class ImageRow
{
    public byte[] Image { get; set; } = [];
}

/// <summary>The classifier's output for one image.</summary>
public sealed class ImagePrediction
{
    /// <summary>Class probabilities, in the manifest's class order.</summary>
    public float[] Score { get; set; } = [];

    public string PredictedClass { get; set; } = "";
}

/// <summary>One text to embed.</summary>
public sealed class TextRow
{
    public string Text { get; set; } = "";
}

/// <summary>The text encoder's output for one text.</summary>
public sealed class TextEmbedding
{
    /// <summary>The L2-normalized pooled embedding.</summary>
    public float[] Embedding { get; set; } = [];
}

/// <summary>The body of POST /embed.</summary>
public sealed record EmbedRequest(string[] Texts);

/// <summary>The answer of POST /embed: one embedding per text, in order.</summary>
public sealed record EmbedResponse(float[][] Embeddings);

/// <summary>The answer of POST /classify.</summary>
public sealed record ClassifyResponse(string Label, float[] Scores);
