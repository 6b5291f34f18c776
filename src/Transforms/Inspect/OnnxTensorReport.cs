using System.Collections.Generic;
using System.Linq;

namespace MlNotes.Transforms.Inspect;

/// <summary>One input or output of an inspected ONNX graph: its element type, its dimensions (fixed and symbolic) and the role MlNotes guesses for it.</summary>
public sealed class OnnxTensorReport
{
    internal OnnxTensorReport(string name, string elementType, int[] dimensions, string[] symbolicDimensions, string? role)
    {
        Name = name;
        ElementType = elementType;
        Dimensions = dimensions;
        SymbolicDimensions = symbolicDimensions;
        Role = role;
    }

    /// <summary>The tensor's name in the graph.</summary>
    public string Name { get; }

    /// <summary>The element type as a manifest spells it: <c>float32</c>, <c>float16</c>, <c>float64</c>, <c>int64</c>, <c>int32</c>, <c>bool</c>, ...</summary>
    public string ElementType { get; }

    /// <summary>The dimensions: the size where the graph fixes it, -1 where it is symbolic (dynamic).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The name of each symbolic dimension (<c>batch</c>, <c>sequence</c>), empty where the dimension is fixed or unnamed.</summary>
    public IReadOnlyList<string> SymbolicDimensions { get; }

    /// <summary>The role guessed for it, as a manifest's <c>roles</c> names them (<c>image</c>, <c>input_ids</c>, <c>logits</c>, <c>embedding</c>, ...), or null when none fits.</summary>
    public string? Role { get; }

    /// <summary>The shape as text: fixed sizes, symbolic names, <c>?</c> for an unnamed dynamic axis.</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions.Select((d, i) => d > 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : "?")) + "]";

    /// <summary>Name, element type, shape and role, on one line.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => $"{Name}: {ElementType} {ShapeText}{(Role != null ? $"  role {Role}" : "")}";
}
