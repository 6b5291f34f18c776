using System;
using Microsoft.ML;
using MlNotes.Trainers.Mdn;

namespace MlNotes.Samples.Mdn;

/// <summary>The pipeline (training) and the consumption side (<see cref="Predict"/>) of the MDN scenario, Model Builder style.</summary>
public sealed class MdnModel : IDisposable
{
    private readonly PredictionEngine<MdnModelInput, MdnModelOutput> _engine;

    /// <summary>Loads a saved model for predictions.</summary>
    public MdnModel(MLContext mlContext, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var model = mlContext.Model.Load(modelPath, out _);
        _engine = mlContext.Model.CreatePredictionEngine<MdnModelInput, MdnModelOutput>(model);
    }

    /// <summary>Features = [X], normalized; then a mixture density network with <paramref name="components"/> Gaussians.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, int components, int epochs, int hiddenUnits)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Transforms.Concatenate("Features", nameof(MdnModelInput.X))
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .Append(mlContext.Regression.Trainers.MixtureDensityNetwork(new MdnTrainer.Options
            {
                NumberOfComponents = components,
                HiddenLayerSizes = new[] { hiddenUnits, hiddenUnits },
                LearningRate = 1e-2,
                BatchSize = 64,
                NumberOfEpochs = epochs,
                IntervalCoverage = 0.9,
                Seed = 1,
            }));
    }

    /// <summary>The predicted distribution of the label at <paramref name="input"/>.</summary>
    public MdnModelOutput Predict(MdnModelInput input) => _engine.Predict(input);

    public void Dispose() => _engine.Dispose();
}
