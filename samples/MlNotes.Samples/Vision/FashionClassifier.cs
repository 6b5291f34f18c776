using System;
using System.IO;
using Microsoft.ML;

namespace MlNotes.Samples.Vision;

/// <summary>The consumption side, as Model Builder writes it: load the saved model once, predict one image at a time.</summary>
public sealed class FashionClassifier : IDisposable
{
    private readonly MLContext _ml = new();
    private readonly ITransformer _model;
    private readonly PredictionEngine<FashionModelInput, FashionModelOutput> _engine;

    public FashionClassifier(string modelZip)
    {
        _model = _ml.Model.Load(modelZip, out _);
        _engine = _ml.Model.CreatePredictionEngine<FashionModelInput, FashionModelOutput>(_model);
    }

    public FashionModelOutput Predict(FashionModelInput input) => _engine.Predict(input);

    public void Dispose()
    {
        _engine.Dispose();
        foreach (var transformer in (System.Collections.Generic.IEnumerable<ITransformer>)_model)
        {
            (transformer as IDisposable)?.Dispose();
        }
    }

    /// <summary>Where the sample saves the model.</summary>
    public static string ModelPath(string outputFolder, string graph) => Path.Combine(outputFolder, graph + "-classifier.zip");
}
