using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Tests.Persistence;
using Xunit;

namespace MlNotes.Transforms.Tests.Options;

/// <summary>A fitted model and the columns it added to its input (read with <see cref="OutputTable"/>).</summary>
internal sealed record Outcome(ITransformer Model, List<OutputColumn> Columns)
{
    private string? _signature;

    /// <summary>Names, types, annotations and every value (Singles exactly), one text: equal texts are equal outputs.</summary>
    public string Signature => _signature ??= string.Join("\n", Columns.Select(c =>
        $"{c.Name}:{c.Type}:[{string.Join(",", c.SlotNames ?? Array.Empty<string>())}]:[{string.Join(",", c.KeyValues ?? Array.Empty<string>())}]:"
        + string.Join(";", c.Rows.Select(r => r.Texts != null ? string.Join(",", r.Texts) : string.Join(",", r.Numbers!.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))))));

    /// <summary>The sessions of an ONNX transformer (none for the others).</summary>
    public IReadOnlyList<OnnxModel> Sessions => Model is OnnxTransformerBase onnx ? onnx.Sessions : Array.Empty<OnnxModel>();

    public long RunCount => Sessions.Sum(s => s.RunCount);
}

/// <summary>One estimator on a small fixture: default options that fit, and how to fit them on the fixture's rows.</summary>
internal sealed class Family<TOptions>
    where TOptions : class
{
    private readonly Func<TOptions> _options;
    private readonly Func<MLContext, IDataView> _input;
    private readonly Func<MLContext, TOptions, IDataView, ITransformer> _fit;

    public Family(Func<TOptions> options, Func<MLContext, IDataView> input, Func<MLContext, TOptions, IDataView, ITransformer> fit)
    {
        _options = options;
        _input = input;
        _fit = fit;
    }

    /// <summary>The fit of the plain defaults, made once per family: most cases compare against it (it keeps the file fast).</summary>
    private Outcome? _baseline;

    /// <summary>Fits the default options, with <paramref name="setup"/> then <paramref name="change"/> applied, and reads the added columns.</summary>
    public Outcome Run(Action<TOptions>? setup = null, Action<TOptions>? change = null, Func<MLContext, IDataView>? input = null)
    {
        if (setup == null && change == null && input == null)
        {
            // The baseline's model is only read after this (Signature, RunCount, Sessions, settings), never run again.
            return _baseline ??= Fit(null, null, null);
        }

        return Fit(setup, change, input);
    }

    private Outcome Fit(Action<TOptions>? setup, Action<TOptions>? change, Func<MLContext, IDataView>? input)
    {
        var ml = new MLContext(seed: 1);
        var options = _options();
        setup?.Invoke(options);
        change?.Invoke(options);
        var data = (input ?? _input)(ml);
        var model = _fit(ml, options, data);
        return new Outcome(model, OutputTable.Read(model.Transform(data), data.Schema.Select(c => c.Name)));
    }
}

/// <summary>One option's case: its key (<c>Estimator.Options.Property</c>) and the test that shows its effect.</summary>
internal sealed record OptionCase(string Key, Action Test);

/// <summary>Builds the cases of one options type on one family.</summary>
internal sealed class CaseList<TOptions>
    where TOptions : class
{
    private readonly Family<TOptions> _family;
    private readonly List<OptionCase> _cases;

    public CaseList(Family<TOptions> family, List<OptionCase> cases)
    {
        _family = family;
        _cases = cases;
    }

    public Family<TOptions> Family => _family;

    public static string KeyOf(string property) => $"{typeof(TOptions).DeclaringType!.Name}.{typeof(TOptions).Name}.{property}";

    /// <summary>The change alters the added columns (names, types, sizes, annotations or values).</summary>
    public void Differs(string property, Action<TOptions> change, Action<TOptions>? setup = null)
        => Add(property, () =>
        {
            var before = _family.Run(setup);
            var after = _family.Run(setup, change);
            Assert.True(before.Signature != after.Signature, $"{KeyOf(property)}: the change left every added column as it was.");
        });

    /// <summary>The change raises <typeparamref name="TException"/> whose message names the option (or <paramref name="message"/>).</summary>
    public void Throws<TException>(string property, Action<TOptions> change, string? message = null, Action<TOptions>? setup = null)
        where TException : Exception
        => Add(property, () =>
        {
            _family.Run(setup);
            var e = Record.Exception(() => _family.Run(setup, change));
            Assert.NotNull(e);
            Assert.IsType<TException>(e);
            Assert.Contains(message ?? property, e.Message, StringComparison.Ordinal);
        });

    /// <summary>The change is checked by <paramref name="check"/> on the outcome before and after.</summary>
    public void Compare(string property, Action<TOptions> change, Action<Outcome, Outcome> check, Action<TOptions>? setup = null)
        => Add(property, () => check(_family.Run(setup), _family.Run(setup, change)));

    /// <summary>A case of its own.</summary>
    public void Custom(string property, Action test) => Add(property, test);

    private void Add(string property, Action test) => _cases.Add(new OptionCase(KeyOf(property), test));
}
