using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using MlNotes.Trainers.InfoNce;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.InfoNce;

/// <summary>The symmetric InfoNCE loss against PyTorch on the same weights and batch (Reference/infonce_reference.py, fixture committed).</summary>
public sealed class InfoNceParityTests
{
    private readonly ITestOutputHelper _output;

    public InfoNceParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Loss_matches_PyTorch_within_1e5()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "infonce_reference.json")));
        var root = json.RootElement;
        double[] Doubles(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        int rows = root.GetProperty("rows").GetInt32();
        var hidden = root.GetProperty("hidden").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var groups = root.GetProperty("groups").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var a = Doubles("a");
        var b = Doubles("b");
        var p = Doubles("parameters");

        var network64 = new InfoNceNetwork<double>(root.GetProperty("size_a").GetInt32(), root.GetProperty("size_b").GetInt32(), hidden,
            root.GetProperty("embedding").GetInt32(), Activation.Relu);
        Assert.Equal(network64.ParameterCount, p.Length);
        using var buffers64 = network64.CreateBuffers(rows);
        var gradient = new double[p.Length];
        double loss64 = network64.LossAndGradient(p, a, b, ReadOnlySpan<int>.Empty, rows, gradient, buffers64, parallel: false);
        double grouped64 = network64.LossAndGradient(p, a, b, groups, rows, Span<double>.Empty, buffers64, parallel: true);

        var network32 = new InfoNceNetwork<float>(network64.HeadA.InputSize, network64.HeadB.InputSize, hidden, network64.EmbeddingSize, Activation.Relu);
        using var buffers32 = network32.CreateBuffers(rows);
        double loss32 = network32.LossAndGradient(p.Select(v => (float)v).ToArray(), a.Select(v => (float)v).ToArray(), b.Select(v => (float)v).ToArray(),
            ReadOnlySpan<int>.Empty, rows, Span<float>.Empty, buffers32, parallel: false);

        double torch64 = root.GetProperty("loss_float64").GetDouble();
        _output.WriteLine($"loss: MlNotes float64 {loss64:F9}, float32 {loss32:F9}; PyTorch {torch64:F9} (float32 {root.GetProperty("loss_float32").GetDouble():F9})");
        _output.WriteLine($"gaps: float64 {loss64 - torch64:E2}, float32 {loss32 - root.GetProperty("loss_float32").GetDouble():E2}, " +
            $"grouped {grouped64 - root.GetProperty("loss_grouped_float64").GetDouble():E2}, d/dt {gradient[^1] - root.GetProperty("grad_log_scale").GetDouble():E2}");
        Assert.Equal(torch64, loss64, 1e-9);
        Assert.Equal(root.GetProperty("loss_float32").GetDouble(), loss32, 1e-5);
        Assert.Equal(root.GetProperty("loss_grouped_float64").GetDouble(), grouped64, 1e-9);
        Assert.Equal(root.GetProperty("grad_log_scale").GetDouble(), gradient[^1], 1e-9);
    }
}
