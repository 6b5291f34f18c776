namespace MlNotes.Transforms.Vision;

/// <summary>How an image graph lays out its input tensor.</summary>
public enum ImageLayout
{
    /// <summary>[batch, channels, height, width]: PyTorch, torchvision and timm exports (and ML.NET's ResNet18).</summary>
    Nchw = 0,

    /// <summary>[batch, height, width, channels]: TensorFlow and Keras exports (tf2onnx), several ONNX-zoo graphs.</summary>
    Nhwc = 1,
}
