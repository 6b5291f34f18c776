using System;
using System.Linq;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.Mdn;

/// <summary>Hand-derived gradients of the MDN against central finite differences, in double precision.</summary>
public sealed class MdnGradientTests
{
    private readonly ITestOutputHelper _output;

    public MdnGradientTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(Activation.Tanh, MdnSigmaTransform.Softplus, 1, 0.0)]
    [InlineData(Activation.Relu, MdnSigmaTransform.Exp, 1, 0.5)]
    [InlineData(Activation.Mish, MdnSigmaTransform.EluPlusOne, 2, 0.1)]
    [InlineData(Activation.Tanh, MdnSigmaTransform.Exp, 3, 1.0)]
    public void Gradient_of_every_parameter_tensor_matches_finite_differences(Activation activation, MdnSigmaTransform sigma, int labelSize, double l2)
    {
        const int Features = 3;
        const int Rows = 7;
        var head = new MdnHead(3, labelSize, sigma, 1e-2);
        var network = new MdnNetwork<double>(Features, new[] { 5, 4 }, activation, head);
        var random = new SplitMix64(42);
        var p = new double[network.ParameterCount];
        network.Initialize(p, ref random, Enumerable.Range(0, 3 * labelSize).Select(i => 0.3 * i - 0.5).ToArray());
        for (int i = 0; i < p.Length; i++)
        {
            p[i] += 0.3 * random.NextGaussian(); // off the symmetric start, biases too
        }

        var x = Enumerable.Range(0, Rows * Features).Select(_ => random.NextGaussian()).ToArray();
        var y = Enumerable.Range(0, Rows * labelSize).Select(_ => random.NextGaussian()).ToArray();
        double coefficient = l2 / 50;

        var analytic = new double[p.Length];
        Loss(p, analytic);
        var numeric = new double[p.Length];
        const double H = 1e-6;
        for (int i = 0; i < p.Length; i++)
        {
            double keep = p[i];
            p[i] = keep + H;
            double up = Loss(p, Span<double>.Empty);
            p[i] = keep - H;
            double down = Loss(p, Span<double>.Empty);
            p[i] = keep;
            numeric[i] = (up - down) / (2 * H);
        }

        var mlp = network.Mlp;
        double worst = 0;
        for (int l = 1; l <= mlp.LayerCount; l++)
        {
            worst = Math.Max(worst, Check($"W{l}", mlp.WeightOffset(l), mlp.BiasOffset(l)));
            worst = Math.Max(worst, Check($"b{l}", mlp.BiasOffset(l), mlp.BiasOffset(l) + mlp.Sizes[l]));
        }

        _output.WriteLine($"max relative error over all parameters: {worst:E2}");

        double Check(string name, int from, int to)
        {
            double maxError = 0;
            for (int i = from; i < to; i++)
            {
                double scale = Math.Max(1e-3, Math.Abs(analytic[i]) + Math.Abs(numeric[i]));
                maxError = Math.Max(maxError, Math.Abs(analytic[i] - numeric[i]) / scale);
            }

            _output.WriteLine($"{name}: {to - from} parameters, max relative error {maxError:E2}");
            Assert.True(maxError < 1e-6, $"{name}: gradient differs from finite differences by {maxError:E2} (relative)");
            return maxError;
        }

        double Loss(double[] parameters, Span<double> gradient)
        {
            using var workspace = network.Mlp.CreateWorkspace(Rows);
            var outputGradient = new double[Rows * head.OutputSize];
            double sum = network.LossAndGradient(parameters, x, y, Rows, 1.0 / Rows, gradient, workspace, outputGradient);
            return sum / Rows + network.AddPrior(parameters, gradient, coefficient);
        }
    }

    [Fact]
    public void Loss_equals_the_naive_mixture_likelihood()
    {
        var head = new MdnHead(4, 2, MdnSigmaTransform.Softplus, 1e-3);
        var random = new SplitMix64(7);
        var output = Enumerable.Range(0, head.OutputSize).Select(_ => 2 * random.NextGaussian()).ToArray();
        var y = new[] { 0.3, -1.2 };
        double loss = head.NegativeLogLikelihood<double>(output, y, Span<double>.Empty, 1.0);

        var logits = output.Take(4).ToArray();
        double norm = logits.Sum(Math.Exp);
        double density = 0;
        for (int k = 0; k < 4; k++)
        {
            double component = Math.Exp(logits[k]) / norm;
            for (int d = 0; d < 2; d++)
            {
                double mu = output[4 + k * 2 + d];
                double sigma = 1e-3 + Math.Log(1 + Math.Exp(output[12 + k * 2 + d]));
                component *= Math.Exp(-0.5 * Math.Pow((y[d] - mu) / sigma, 2)) / (sigma * Math.Sqrt(2 * Math.PI));
            }

            density += component;
        }

        Assert.Equal(-Math.Log(density), loss, 12);
    }

    [Fact]
    public void Loss_stays_finite_for_extreme_logits_and_far_labels()
    {
        var head = new MdnHead(2, 1, MdnSigmaTransform.Softplus, 1e-3);
        var output = new[] { 1000.0, -1000.0, 0.0, 0.0, -50.0, -50.0 };
        var gradient = new double[6];
        double loss = head.NegativeLogLikelihood<double>(output, new[] { 1e3 }, gradient, 1.0);
        Assert.True(double.IsFinite(loss));
        Assert.All(gradient, g => Assert.True(double.IsFinite(g)));
    }
}
