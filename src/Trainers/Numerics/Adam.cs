using System;
using System.Numerics;

namespace MlNotes.Trainers.Numerics;

/// <summary>
/// Adam with bias correction, step for step as PyTorch's <c>torch.optim.Adam</c> (no weight decay here: the trainers put
/// their prior into the gradient): p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// </summary>
internal sealed class Adam<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _m;
    private readonly T[] _v;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private int _step;

    public Adam(int parameterCount, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _m = new T[parameterCount];
        _v = new T[parameterCount];
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
    }

    public int Step => _step;

    public void Update(Span<T> parameters, ReadOnlySpan<T> gradient, double learningRate)
    {
        _step++;
        T b1 = T.CreateTruncating(_beta1);
        T b2 = T.CreateTruncating(_beta2);
        T oneMinusB1 = T.One - b1;
        T oneMinusB2 = T.One - b2;
        T stepSize = T.CreateTruncating(learningRate / (1.0 - Math.Pow(_beta1, _step)));
        T correction2 = T.CreateTruncating(Math.Sqrt(1.0 - Math.Pow(_beta2, _step)));
        T eps = T.CreateTruncating(_epsilon);
        for (int i = 0; i < parameters.Length; i++)
        {
            T g = gradient[i];
            T m = _m[i] = b1 * _m[i] + oneMinusB1 * g;
            T v = _v[i] = b2 * _v[i] + oneMinusB2 * g * g;
            parameters[i] -= stepSize * m / (T.Sqrt(v) / correction2 + eps);
        }
    }
}
