namespace MlNotes.Transforms.Vision;

/// <summary>How the bytes of a source image are laid out, per pixel (rows top to bottom, pixels left to right).</summary>
internal enum PixelFormat
{
    Grey = 1,
    Rgb = 3,
    Rgba = 4,
    Bgra = 5,
}
