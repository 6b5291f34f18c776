namespace MlNotes.Samples.Mdn;

/// <summary>One row: a single input <see cref="X"/> and the value to predict, <see cref="Label"/>.</summary>
public sealed class MdnModelInput
{
    public float X { get; set; }

    public float Label { get; set; }
}
