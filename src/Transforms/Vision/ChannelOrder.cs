namespace MlNotes.Transforms.Vision;

/// <summary>The order in which a three-channel image graph takes its colour channels.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue: torchvision, timm and most exports.</summary>
    Rgb = 0,

    /// <summary>Blue, green, red: Caffe and OpenCV-trained graphs (Caffe-converted ONNX-zoo models, ML.NET's ResNet18).</summary>
    Bgr = 1,
}
