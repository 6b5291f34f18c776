using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlNotes.Transforms.Onnx;

/// <summary>One graph input or output as the engine sees it: a batch axis, then the dimensions of one row.</summary>
internal sealed class OnnxTensorInfo
{
    private OnnxTensorInfo(string name, TensorElementType elementType, Type clrType, DataViewType itemType, int[] graphDims, int fixedBatch)
    {
        Name = name;
        ElementType = elementType;
        ClrType = clrType;
        ItemType = itemType;
        GraphDims = graphDims;
        FixedBatch = fixedBatch;
        RowDims = graphDims.Skip(1).ToArray();
        DynamicRowAxes = RowDims.Count(d => d <= 0);
        KnownRowElements = RowDims.Where(d => d > 0).Aggregate(1, (a, d) => checked(a * d));
        RowElements = DynamicRowAxes == 0 ? KnownRowElements : -1;
    }

    public string Name { get; }

    public TensorElementType ElementType { get; }

    public Type ClrType { get; }

    public DataViewType ItemType { get; }

    /// <summary>Dimensions as the graph declares them; 0 or less where symbolic.</summary>
    public int[] GraphDims { get; }

    /// <summary>The batch size the graph fixes (an export without a dynamic batch: ML.NET's ResNet18 fixes 1), or 0 when the axis is symbolic.</summary>
    public int FixedBatch { get; }

    /// <summary>Dimensions of one row (the graph's dims without the batch axis); 0 or less where dynamic.</summary>
    public int[] RowDims { get; }

    public int DynamicRowAxes { get; }

    /// <summary>Product of the known row dimensions.</summary>
    public int KnownRowElements { get; }

    /// <summary>Elements in one row, or -1 when a row dimension is dynamic.</summary>
    public int RowElements { get; }

    /// <summary>The column type this tensor maps to: a scalar for [batch], a vector (of known size where the graph fixes it) otherwise.</summary>
    public DataViewType ColumnType => RowDims.Length == 0
        ? ItemType
        : RowElements > 0
            ? new VectorDataViewType((PrimitiveDataViewType)ItemType, RowDims)
            : new VectorDataViewType((PrimitiveDataViewType)ItemType);

    public string ShapeText => "[" + string.Join(", ", GraphDims.Select((d, i) => d > 0 ? d.ToString() : i == 0 ? "batch" : "?")) + "]";

    public string TypeText => RowDims.Length == 0
        ? $"{ItemType}"
        : RowElements > 0 ? $"Vector<{ItemType}, {RowElements}>" : $"Vector<{ItemType}>";

    /// <param name="name">The tensor's name.</param>
    /// <param name="metadata">The graph's metadata of it.</param>
    /// <param name="modelName">The model, for messages.</param>
    /// <param name="isInput">An input (else an output).</param>
    /// <param name="float16">Map float16 too, as Float16 values (a family that converts them itself: the text encoder); else refused.</param>
    public static OnnxTensorInfo Create(string name, NodeMetadata metadata, string modelName, bool isInput, bool float16 = false)
    {
        string role = isInput ? "input" : "output";
        if (!metadata.IsTensor)
        {
            return ThrowHelper.NotSupported<OnnxTensorInfo>($"The ONNX graph {role} '{name}' of model {modelName} is a {metadata.OnnxValueType}, not a tensor: MlNotes maps tensors only.");
        }

        (Type clrType, DataViewType itemType) = metadata.ElementDataType switch
        {
            TensorElementType.Float => (typeof(float), (DataViewType)NumberDataViewType.Single),
            TensorElementType.Float16 when float16 => (typeof(Float16), NumberDataViewType.Single),
            TensorElementType.Double => (typeof(double), NumberDataViewType.Double),
            TensorElementType.Int32 => (typeof(int), NumberDataViewType.Int32),
            TensorElementType.Int64 => (typeof(long), NumberDataViewType.Int64),
            TensorElementType.Bool => (typeof(bool), BooleanDataViewType.Instance),
            TensorElementType.UInt8 => (typeof(byte), NumberDataViewType.Byte),
            TensorElementType.Int8 => (typeof(sbyte), NumberDataViewType.SByte),
            TensorElementType.Int16 => (typeof(short), NumberDataViewType.Int16),
            TensorElementType.UInt16 => (typeof(ushort), NumberDataViewType.UInt16),
            TensorElementType.UInt32 => (typeof(uint), NumberDataViewType.UInt32),
            TensorElementType.UInt64 => (typeof(ulong), NumberDataViewType.UInt64),
            _ => ThrowHelper.NotSupported<(Type, DataViewType)>(
                $"The ONNX graph {role} '{name}' of model {modelName} has element type {metadata.ElementDataType}, which MlNotes does not map " +
                "(supported: float, double, int8/16/32/64, uint8/16/32/64, bool)."),
        };

        int[] dims = metadata.Dimensions;
        if (dims.Length == 0)
        {
            return ThrowHelper.NotSupported<OnnxTensorInfo>(
                $"The ONNX graph {role} '{name}' of model {modelName} is a scalar tensor with no batch axis: export it with a leading batch dimension.");
        }

        // A fixed first axis is taken as a fixed batch: batches run at that size, the last one padded (OnnxBatch).
        var info = new OnnxTensorInfo(name, metadata.ElementDataType, clrType, itemType, dims, Math.Max(dims[0], 0));
        if (isInput && info.FixedBatch > 1 && info.DynamicRowAxes > 0)
        {
            return ThrowHelper.NotSupported<OnnxTensorInfo>(
                $"The ONNX graph input '{name}' of model {modelName} has shape {info.ShapeText}: a batch fixed to {info.FixedBatch} with a dynamic axis besides it " +
                "cannot be padded to that batch. Export the graph with a dynamic first axis.");
        }

        if (isInput && info.DynamicRowAxes > 1)
        {
            return ThrowHelper.NotSupported<OnnxTensorInfo>(
                $"The ONNX graph input '{name}' of model {modelName} has shape {info.ShapeText} with {info.DynamicRowAxes} dynamic axes besides the batch: " +
                "a row's shape cannot be told from its length. Export it with at most one dynamic axis besides the batch.");
        }

        return info;
    }
}
