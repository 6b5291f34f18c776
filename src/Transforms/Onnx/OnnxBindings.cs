using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

/// <summary>Pairs columns with graph tensors, checks columns against them, and stores the pairs in a model zip.</summary>
internal static class OnnxBindings
{
    public static OnnxColumnBinding[] Bind(IReadOnlyDictionary<string, NodeMetadata> graph, IReadOnlyList<string>? columns, IReadOnlyList<string>? tensors, string modelName, bool isInput, string? tensorOption = null)
    {
        string role = isInput ? "input" : "output";
        string prefix = isInput ? "Input" : "Output";
        tensors ??= columns ?? graph.Keys.ToArray();
        columns ??= tensors;
        if (columns.Count != tensors.Count)
        {
            ThrowHelper.BadOption($"{prefix}ColumnNames", $"{prefix}ColumnNames has {columns.Count} names but {prefix}TensorNames has {tensors.Count}: they pair up one to one.");
        }

        var bindings = new OnnxColumnBinding[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            if (string.IsNullOrEmpty(columns[i]) || string.IsNullOrEmpty(tensors[i]))
            {
                ThrowHelper.BadOption($"{prefix}ColumnNames", $"{prefix} column and tensor names must not be empty (position {i}).");
            }

            if (!graph.TryGetValue(tensors[i], out var metadata))
            {
                ThrowHelper.BadOption(tensorOption ?? $"{prefix}TensorNames",
                    $"The ONNX model {modelName} has no {role} named '{tensors[i]}' (its {role}s: {string.Join(", ", graph.Keys)}).");
            }

            bindings[i] = new OnnxColumnBinding(columns[i], OnnxTensorInfo.Create(tensors[i], metadata, modelName, isInput));
        }

        if (bindings.Select(b => b.ColumnName).Distinct().Count() != bindings.Length)
        {
            ThrowHelper.BadOption($"{prefix}ColumnNames", $"{prefix} column names must be distinct: {string.Join(", ", bindings.Select(b => b.ColumnName))}.");
        }

        if (bindings.Select(b => b.Tensor.Name).Distinct().Count() != bindings.Length)
        {
            ThrowHelper.BadOption($"{prefix}TensorNames", $"Each ONNX {role} can be mapped once: {string.Join(", ", bindings.Select(b => b.Tensor.Name))}.");
        }

        if (isInput)
        {
            foreach (string name in graph.Keys)
            {
                if (!bindings.Any(b => b.Tensor.Name == name))
                {
                    ThrowHelper.BadOption("InputColumnNames",
                        $"The ONNX graph input '{name}' of model {modelName} is not mapped to a column: add it to InputColumnNames (and InputTensorNames).");
                }
            }
        }

        return bindings;
    }

    /// <summary>The batch size to use: the graph's where it fixes a batch axis (ML.NET's ResNet18: 1), else the requested one.</summary>
    public static int EffectiveBatchSize(IEnumerable<OnnxColumnBinding> bindings, int requested)
        => bindings.Select(b => b.Tensor.FixedBatch).DefaultIfEmpty(0).Max() is int fixedBatch and > 0 ? fixedBatch : requested;

    public static void CheckInputColumn(DataViewSchema schema, OnnxColumnBinding binding, string modelName)
    {
        var tensor = binding.Tensor;
        var column = schema.GetColumnOrNull(binding.ColumnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(schema), binding.ColumnName);
        }

        var type = column.Value.Type;
        var itemType = type is VectorDataViewType vector ? vector.ItemType : type;
        string expected = $"{tensor.TypeText} (ONNX input '{tensor.Name}' {tensor.ShapeText} of model {modelName})";
        if (!itemType.Equals(tensor.ItemType))
        {
            ThrowHelper.SchemaMismatch(nameof(schema), binding.ColumnName, expected, $"{type}");
        }

        int size = type is VectorDataViewType v ? v.Size : 1;
        if (type is VectorDataViewType && size == 0)
        {
            return; // A variable-size vector: each row's length is checked as it is read.
        }

        bool fits = tensor.RowElements > 0 ? size == tensor.RowElements : size % tensor.KnownRowElements == 0;
        if (!fits)
        {
            ThrowHelper.SchemaMismatch(nameof(schema), binding.ColumnName, expected, $"{type} ({size} values)");
        }
    }

    public static void Save(ModelSaveContext ctx, IReadOnlyList<OnnxColumnBinding> bindings)
    {
        ctx.Writer.Write(bindings.Count);
        foreach (var binding in bindings)
        {
            ctx.SaveNonEmptyString(binding.ColumnName);
            ctx.SaveNonEmptyString(binding.Tensor.Name);
        }
    }

    public static (string[] Columns, string[] Tensors) Load(ModelLoadContext ctx, OnnxModel model, bool isInput)
    {
        string role = isInput ? "input" : "output";
        int count = ModelEntry.Read(ctx, ctx.Reader.ReadInt32);
        var graph = isInput ? model.InputMetadata : model.OutputMetadata;
        ModelEntry.Check(ctx, count >= 0 && count <= graph.Count, $"it binds {count} ONNX {role}s; the saved ONNX model has {graph.Count}");
        var columns = new string[count];
        var tensors = new string[count];
        for (int i = 0; i < count; i++)
        {
            columns[i] = ModelEntry.Read(ctx, ctx.LoadNonEmptyString);
            tensors[i] = ModelEntry.Read(ctx, ctx.LoadNonEmptyString);
            ModelEntry.Check(ctx, ModelEntry.MissingTensor($"{role} binding {i}", tensors[i], graph, role));
        }

        return (columns, tensors);
    }
}
