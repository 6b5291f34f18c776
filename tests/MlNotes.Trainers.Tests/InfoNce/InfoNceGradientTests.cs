using System;
using System.Linq;
using MlNotes.Trainers.InfoNce;
using MlNotes.Trainers.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.InfoNce;

public sealed class InfoNceGradientTests
{
    private readonly ITestOutputHelper _output;

    public InfoNceGradientTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, Activation.Tanh, false)]
    [InlineData(true, Activation.Mish, false)]
    [InlineData(true, Activation.Relu, true)]
    public void Gradient_of_every_parameter_and_the_temperature_matches_finite_differences(bool hidden, Activation activation, bool grouped)
    {
        const int Rows = 6;
        var network = new InfoNceNetwork<double>(5, 4, hidden ? new[] { 7 } : Array.Empty<int>(), 3, activation);
        var random = new SplitMix64(3);
        var p = new double[network.ParameterCount];
        network.Initialize(p, ref random, Math.Log(1 / 0.3));
        for (int i = 0; i < network.LogScaleIndex; i++)
        {
            p[i] += 0.2 * random.NextGaussian();
        }

        var a = Enumerable.Range(0, Rows * 5).Select(_ => random.NextGaussian()).ToArray();
        var b = Enumerable.Range(0, Rows * 4).Select(_ => random.NextGaussian()).ToArray();
        var groups = grouped ? new[] { 0, 0, 1, 1, 1, 0 } : Array.Empty<int>();
        using var buffers = network.CreateBuffers(Rows);
        double Loss(Span<double> gradient) => network.LossAndGradient(p, a, b, groups, Rows, gradient, buffers, parallel: false);
        var analytic = new double[p.Length];
        Loss(analytic);
        double worst = 0;
        var tensors = new (string Name, int From, int To)[]
        {
            ("head A", 0, network.OffsetB), ("head B", network.OffsetB, network.LogScaleIndex), ("log scale", network.LogScaleIndex, p.Length),
        };
        foreach (var (name, from, to) in tensors)
        {
            double maxError = 0;
            for (int i = from; i < to; i++)
            {
                double keep = p[i];
                p[i] = keep + 1e-6;
                double up = Loss(Span<double>.Empty);
                p[i] = keep - 1e-6;
                double down = Loss(Span<double>.Empty);
                p[i] = keep;
                double numeric = (up - down) / 2e-6;
                maxError = Math.Max(maxError, Math.Abs(numeric - analytic[i]) / Math.Max(1e-3, Math.Abs(numeric) + Math.Abs(analytic[i])));
            }

            _output.WriteLine($"{name}: {to - from} parameters, max relative error {maxError:E2}");
            Assert.True(maxError < 1e-6, $"{name}: {maxError:E2}");
            worst = Math.Max(worst, maxError);
        }

        _output.WriteLine($"max relative error {worst:E2}");
    }
}
