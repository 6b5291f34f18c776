namespace MlNotes.Transforms.Onnx;

/// <summary>A column of the data view bound to a tensor of the graph.</summary>
internal sealed record OnnxColumnBinding(string ColumnName, OnnxTensorInfo Tensor);
