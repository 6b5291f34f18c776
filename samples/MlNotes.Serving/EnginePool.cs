using System;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace MlNotes.Serving.Sample;

/// <summary>
/// The baseline the benchmark compares with: what Microsoft.Extensions.ML's PredictionEnginePool does, an object pool of
/// single-row PredictionEngines over one loaded model, one engine (one batch-1 run) per request.
/// </summary>
public sealed class EnginePool<TInput, TOutput> : IDisposable
    where TInput : class
    where TOutput : class, new()
{
    private readonly ITransformer _model;
    private readonly ObjectPool<PredictionEngine<TInput, TOutput>> _pool;

    public EnginePool(string zip)
    {
        var ml = new MLContext();
        _model = ml.Model.Load(zip, out _);
        _pool = new DefaultObjectPoolProvider().Create(new Policy(ml, _model));
    }

    public TOutput Predict(TInput input)
    {
        var engine = _pool.Get();
        try
        {
            return engine.Predict(input);
        }
        finally
        {
            _pool.Return(engine);
        }
    }

    public void Dispose()
    {
        (_pool as IDisposable)?.Dispose();
        BundledModels.DisposeModel(_model);
    }

    private sealed class Policy(MLContext ml, ITransformer model) : IPooledObjectPolicy<PredictionEngine<TInput, TOutput>>
    {
        public PredictionEngine<TInput, TOutput> Create() => ml.Model.CreatePredictionEngine<TInput, TOutput>(model);

        public bool Return(PredictionEngine<TInput, TOutput> obj) => true;
    }
}
