namespace MlNotes.Transforms.Vision;

/// <summary>The filter that resizes 8-bit images, each bit for bit as Pillow's <c>Image.resize</c> (what torchvision and timm run on PIL images).</summary>
public enum ResizeInterpolation
{
    /// <summary>Pillow's <c>BILINEAR</c>, antialiased on downscale (a triangle filter whose support grows with the factor): torchvision's default.</summary>
    Bilinear = 0,

    /// <summary>Pillow's <c>BICUBIC</c> (a = -0.5, antialiased on downscale): timm's default for most ImageNet models, CLIP's preprocessing.</summary>
    Bicubic = 1,

    /// <summary>Pillow's <c>NEAREST</c>: the source pixel under each output pixel's centre, no filtering.</summary>
    Nearest = 2,
}
