namespace MlNotes.Transforms.Vision;

/// <summary>How an embedding output of shape [batch, tokens, size] (a vision transformer's tokens) becomes one vector per image.</summary>
public enum TokenPooling
{
    /// <summary>The first token (the class token): torchvision's ViT, timm's <c>global_pool="token"</c>, CLIP's image tower.</summary>
    ClassToken = 0,

    /// <summary>The mean over every token, the first included.</summary>
    Mean = 1,

    /// <summary>The mean over every token but the first (the patches): timm's <c>global_pool="avg"</c> on a ViT with one class token (BEiT, DeiT-style heads).</summary>
    PatchMean = 2,
}
