namespace MlNotes.Transforms.Vision;

/// <summary>The range a graph takes its pixel values in, before any mean and std (a shorthand for a scale and an offset).</summary>
public enum PixelRange
{
    /// <summary>[0, 1]: the 8-bit value / 255 (torchvision's <c>ToTensor</c>); scale 1/255, offset 0.</summary>
    ZeroToOne = 0,

    /// <summary>[0, 255]: the 8-bit value as it is (Caffe, many ONNX-zoo and TensorFlow graphs, ML.NET's ResNet18); scale 1, offset 0.</summary>
    ZeroTo255 = 1,

    /// <summary>[-1, 1]: value / 127.5 - 1 (TensorFlow's Inception and MobileNet preprocessing); scale 1/127.5, offset -1.</summary>
    MinusOneToOne = 2,
}
