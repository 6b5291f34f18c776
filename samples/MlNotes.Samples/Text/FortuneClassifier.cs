using System;
using System.Collections.Generic;
using Microsoft.ML;

namespace MlNotes.Samples.Text;

/// <summary>The consumption side: load the saved model once, classify one text at a time.</summary>
public sealed class FortuneClassifier : IDisposable
{
    private readonly MLContext _ml = new();
    private readonly ITransformer _model;
    private readonly PredictionEngine<FortuneModelInput, FortuneModelOutput> _engine;

    public FortuneClassifier(string modelZip)
    {
        _model = _ml.Model.Load(modelZip, out _);
        _engine = _ml.Model.CreatePredictionEngine<FortuneModelInput, FortuneModelOutput>(_model);
    }

    public FortuneModelOutput Predict(string text) => _engine.Predict(new FortuneModelInput { Text = text });

    public void Dispose()
    {
        _engine.Dispose();
        foreach (var transformer in (IEnumerable<ITransformer>)_model)
        {
            (transformer as IDisposable)?.Dispose();
        }
    }
}
