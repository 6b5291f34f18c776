namespace MlNotes.Trainers.Mdn;

/// <summary>How a mixture density network turns an unconstrained output s into a standard deviation, sigma = minimum + f(s).</summary>
public enum MdnSigmaTransform
{
    /// <summary>f(s) = log(1 + e^s): grows linearly, so large outputs do not blow up. The default.</summary>
    Softplus = 0,

    /// <summary>f(s) = e^s, Bishop's original choice: a log-sigma parameterization, prone to overflow early in training.</summary>
    Exp = 1,

    /// <summary>f(s) = ELU(s) + 1, as keras-mdn-layer does.</summary>
    EluPlusOne = 2,
}
