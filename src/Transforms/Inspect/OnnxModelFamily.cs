namespace MlNotes.Transforms.Inspect;

/// <summary>The kind of graph <see cref="Microsoft.ML.MlNotesModelOperationsCatalog.InspectOnnx"/> takes an ONNX model for, from its tensors' names, types and shapes.</summary>
public enum OnnxModelFamily
{
    /// <summary>None of the others: score it with <c>ApplyOnnxModelBatched</c>.</summary>
    Unknown,

    /// <summary>An image in, class logits out (and maybe an embedding): <c>ClassifyImageOnnx</c>.</summary>
    ImageClassifier,

    /// <summary>An image in, an embedding or token states out (a featurizer): <c>EncodeClipImage</c>.</summary>
    ImageEncoder,

    /// <summary>Token ids in, token states or a pooled vector out: <c>EncodeTextOnnx</c>.</summary>
    TextEncoder,

    /// <summary>CLIP's image tower (an <c>image_embeds</c> output): <c>EncodeClipImage</c>.</summary>
    ClipImage,

    /// <summary>CLIP's text tower (a <c>text_embeds</c> output): <c>EncodeClipText</c>.</summary>
    ClipText,

    /// <summary>Both CLIP towers in one graph (an image and token ids in): MlNotes reads the towers as two graphs.</summary>
    ClipDual,

    /// <summary>A VAE's encoder (an image in, <c>mean</c> and <c>logvar</c> out): <c>EncodeVae</c>.</summary>
    VaeEncoder,

    /// <summary>A VAE's decoder (a latent vector in, an image of logits out): <c>DecodeVae</c>.</summary>
    VaeDecoder,

    /// <summary>A VQ-VAE's encoder (an image in, a channels-last grid of latents out): <c>EncodeVqVae</c>.</summary>
    VqVaeEncoder,

    /// <summary>A VQ-VAE's decoder (a channels-last grid of code vectors in, an image out): <c>DecodeVqVae</c>.</summary>
    VqVaeDecoder,

    /// <summary>The encoder of an encoder-decoder Transformer (token ids in, <c>encoder_hidden_states</c> out).</summary>
    Seq2SeqEncoder,

    /// <summary>One step of an encoder-decoder's decoder: encoder states and past keys/values in, logits and present keys/values out.</summary>
    Seq2SeqDecoder,

    /// <summary>A decoder-only language model (token ids, maybe past keys/values, in; logits over the vocabulary out).</summary>
    DecoderOnlyLanguageModel,
}
