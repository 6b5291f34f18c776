using System;
using System.Collections.Generic;
using Microsoft.ML;
using MlNotes.Samples.Vision;

namespace MlNotes.Samples.Clip;

/// <summary>The consumption side of the zero-shot classifier, as Model Builder writes it: load once, predict one image at a time.</summary>
public sealed class ClipZeroShotClassifier : IDisposable
{
    private readonly MLContext _ml = new();
    private readonly ITransformer _model;
    private readonly PredictionEngine<FashionModelInput, ClipZeroShotOutput> _engine;

    public ClipZeroShotClassifier(string modelZip)
    {
        _model = _ml.Model.Load(modelZip, out _);
        _engine = _ml.Model.CreatePredictionEngine<FashionModelInput, ClipZeroShotOutput>(_model);
    }

    public ClipZeroShotOutput Predict(FashionModelInput input) => _engine.Predict(input);

    public void Dispose()
    {
        _engine.Dispose();
        foreach (var transformer in (IEnumerable<ITransformer>)_model)
        {
            (transformer as IDisposable)?.Dispose();
        }
    }
}

/// <summary>The consumption side of the text-to-image search: the text tower and the image index, saved as one model.</summary>
public sealed class ClipImageSearch : IDisposable
{
    private readonly MLContext _ml = new();
    private readonly ITransformer _model;
    private readonly PredictionEngine<ImageSearchQuery, ImageSearchResult> _engine;

    public ClipImageSearch(string modelZip)
    {
        _model = _ml.Model.Load(modelZip, out _);
        _engine = _ml.Model.CreatePredictionEngine<ImageSearchQuery, ImageSearchResult>(_model);
    }

    public ImageSearchResult Search(string query) => _engine.Predict(new ImageSearchQuery { Text = query });

    public void Dispose()
    {
        _engine.Dispose();
        foreach (var transformer in (IEnumerable<ITransformer>)_model)
        {
            (transformer as IDisposable)?.Dispose();
        }
    }
}
