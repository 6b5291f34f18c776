using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>The pinning check reads every thread a session adds, which sessions of other tests would disturb: runs alone.</summary>
[CollectionDefinition(nameof(OnnxThreadSettingsTests), DisableParallelization = true)]
public sealed class OnnxThreadSettingsRunAlone
{
}

/// <summary>
/// The intra-op thread settings a session gets (docs/threads.md): MlNotes' default is one thread per CPU the process may use, set as
/// an explicit count (so ONNX Runtime pins nothing) without spinning; a count the user sets is passed as is.
/// Alone in its collection: the pinning check reads every thread the session adds, and other tests create sessions of their own.
/// </summary>
[Collection(nameof(OnnxThreadSettingsTests))]
public sealed class OnnxThreadSettingsTests
{
    [Fact]
    public void Default_IsOneThreadPerUsableCpu_WithoutSpinning()
    {
        var settings = new OnnxScoringEstimator.Options { ModelFile = TestModels.Mlp }.ExecutionSettings;
        Assert.Equal(0, settings.IntraOpNumThreads); // what a saved model keeps: resolved again on the machine that loads it

        Assert.Equal(Environment.ProcessorCount, settings.ResolvedIntraOpNumThreads);
        Assert.False(settings.ResolvedAllowSpinning);
        using var options = new SessionOptions();
        OnnxSessionFactory.Configure(options, settings);
        Assert.Equal(Environment.ProcessorCount, options.IntraOpNumThreads);
        Assert.Equal(0, options.InterOpNumThreads);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public void ExplicitCount_IsPassedAsIs_WithOnnxRuntimesSpinning(int threads)
    {
        var settings = OnnxExecutionSettings.Cpu with { IntraOpNumThreads = threads };

        Assert.Equal(threads, settings.ResolvedIntraOpNumThreads);
        Assert.True(settings.ResolvedAllowSpinning);
        using var options = new SessionOptions();
        OnnxSessionFactory.Configure(options, settings);
        Assert.Equal(threads, options.IntraOpNumThreads);
    }

    [Fact]
    public void NegativeCount_IsRefused()
    {
        var settings = OnnxExecutionSettings.Cpu with { IntraOpNumThreads = -1 };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            OnnxSessionFactory.Create(File.ReadAllBytes(TestModels.Mlp), settings, "mlp", false, out _));
        Assert.Contains("got intra-op -1, inter-op 0", e.Message);
    }

    [Fact]
    public void DefaultSession_PinsNoThread()
    {
        // ONNX Runtime's pool of n threads is n - 1 workers plus the calling thread. With its own default (IntraOpNumThreads = 0)
        // on this 2-core VM it added one worker pinned to CPU 1 (Cpus_allowed_list "1"); MlNotes' default pins none.
        // A native thread inherits its creator's name (here ".NET TP Worker"), so the runtime's own new threads cannot be told
        // apart by name: every new thread is checked, and at least the pool's workers must be among them.
        byte[] model = File.ReadAllBytes(TestModels.Mlp);
        using (OnnxSessionFactory.Create(model, OnnxExecutionSettings.Cpu with { IntraOpNumThreads = 1 }, "mlp", false, out _))
        {
            // The first session in a process also starts ONNX Runtime's once-per-process threads: out of the check below.
        }

        string processCpus = AllowedCpus("/proc/self/status");
        var before = Tasks();
        using var session = OnnxSessionFactory.Create(model, OnnxExecutionSettings.Cpu, "mlp", false, out _);
        var added = Tasks().Except(before).Select(t => AllowedCpus($"/proc/self/task/{t}/status")).ToArray();

        Assert.True(added.Length >= Environment.ProcessorCount - 1, $"{added.Length} new threads, expected at least {Environment.ProcessorCount - 1}");
        Assert.All(added, cpus => Assert.Equal(processCpus, cpus));
    }

    private static string[] Tasks() => Directory.GetDirectories("/proc/self/task").Select(d => Path.GetFileName(d)).ToArray();

    private static string AllowedCpus(string statusFile)
        => File.ReadAllLines(statusFile).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim();
}
