namespace MlNotes.Trainers;

/// <summary>The nonlinearity of the hidden layers of an MlNotes network.</summary>
public enum Activation
{
    /// <summary>The hyperbolic tangent, as in Bishop's mixture density networks.</summary>
    Tanh = 0,

    /// <summary>The rectified linear unit, max(0, x).</summary>
    Relu = 1,

    /// <summary>Mish, x tanh(softplus(x)): smooth, non-monotonic, unbounded above.</summary>
    Mish = 2,
}
