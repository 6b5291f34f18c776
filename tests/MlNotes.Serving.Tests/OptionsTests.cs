using System;
using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Xunit;

namespace MlNotes.Serving.Tests;

/// <summary>Every PredictionPoolOptions property: honoured (the rule tests) or refused here, with the option's name and the range.</summary>
public sealed class OptionsTests
{
    public static TheoryData<string, Action<PredictionPoolOptions>, string> BadOptions => new()
    {
        { "MaxBatchSize", o => o.MaxBatchSize = 0, "between 1 and 65536; got 0" },
        { "MaxBatchSize", o => o.MaxBatchSize = 65_537, "between 1 and 65536; got 65537" },
        { "MaxDelay", o => o.MaxDelay = TimeSpan.FromMilliseconds(-1), "between 0 and 10 s" },
        { "MaxDelay", o => o.MaxDelay = TimeSpan.FromSeconds(11), "between 0 and 10 s" },
        { "MaxQueueLength", o => o.MaxQueueLength = 0, "between 1 and 1048576; got 0" },
        { "MaxConcurrentBatches", o => o.MaxConcurrentBatches = 0, "between 1 and 64; got 0" },
        { "MaxConcurrentBatches", o => o.MaxConcurrentBatches = 65, "between 1 and 64; got 65" },
        { "ModelPath", o => o.ModelPath = "model.zip", "is for a pool that loads its own model" },
        { "WatchForChanges", o => o.WatchForChanges = true, "needs ModelPath" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_pool_given_a_model_refuses_each_bad_option_naming_it(string option, Action<PredictionPoolOptions> set, string message)
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        var options = new PredictionPoolOptions();
        set(options);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PredictionPool<GateRow, GateOutput>(ml, gated.Model, options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_public_option_has_a_case_here_or_in_the_rule_tests()
    {
        // Honoured: MaxBatchSize (gathering test), MaxDelay (idle/busy test), MaxQueueLength (full-queue test), ModelPath and
        // WatchForChanges (watched-file test), MaxConcurrentBatches (the two-slot tests); each is refused out of range above.
        var covered = new[] { "MaxBatchSize", "MaxDelay", "MaxQueueLength", "MaxConcurrentBatches", "ModelPath", "WatchForChanges" };
        var properties = typeof(PredictionPoolOptions).GetProperties().Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(covered.Order(StringComparer.Ordinal), properties);
    }

    [Fact]
    public void A_pool_that_loads_its_model_needs_ModelPath_and_registration_checks_the_options_at_once()
    {
        var ml = new MLContext();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PredictionPool<GateRow, GateOutput>(ml, new PredictionPoolOptions()));
        Assert.Equal("ModelPath", e.ParamName);

        var services = new ServiceCollection();
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => services.AddMlNotesPredictionPool<GateRow, GateOutput>("m", new PredictionPoolOptions { ModelPath = "m.zip", MaxBatchSize = 0 }));
        Assert.Equal("MaxBatchSize", bad.ParamName);
        services.AddMlNotesPredictionPool<GateRow, GateOutput>("m", new PredictionPoolOptions { ModelPath = "m.zip" });
        var twice = Assert.Throws<ArgumentException>(() => services.AddMlNotesPredictionPool<GateRow, GateOutput>("m", new PredictionPoolOptions { ModelPath = "m.zip" }));
        Assert.Contains("named 'm' is already registered", twice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_file_fails_when_the_pool_is_built()
    {
        var ml = new MLContext();
        Assert.ThrowsAny<System.IO.IOException>(() => new PredictionPool<GateRow, GateOutput>(ml, new PredictionPoolOptions { ModelPath = "/nonexistent/model.zip" }));
    }

    [Fact]
    public void The_options_are_copied_when_the_pool_is_built()
    {
        var ml = new MLContext();
        using var gated = new GatedModel(ml);
        var options = new PredictionPoolOptions { MaxQueueLength = 1 };
        using var pool = new PredictionPool<GateRow, GateOutput>(ml, gated.Model, options);
        options.MaxQueueLength = 0; // would be refused; the pool kept 1
        Assert.Equal(3, pool.Predict(new GateRow { X = 1 }).Y);
    }
}
