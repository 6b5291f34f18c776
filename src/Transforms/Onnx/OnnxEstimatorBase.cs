using System;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// What every MlNotes estimator over ONNX graphs shares: the graph is opened and checked against its manifest and the options
/// when the estimator is built (errors surface when the pipeline is built), the estimator then keeps only the resolved settings and
/// the graph's bytes, and each <see cref="Fit"/> returns a new transformer, over the sessions that the live transformers fitted
/// before it share (new ones once they are all disposed).
/// </summary>
/// <typeparam name="TTransformer">The transformer <see cref="Fit"/> returns.</typeparam>
public abstract class OnnxEstimatorBase<TTransformer> : IEstimator<TTransformer>
    where TTransformer : OnnxTransformerBase
{
    private protected OnnxEstimatorBase(TTransformer checkedTransformer)
    {
        // The sessions served to check the graph; holding them would leak them when the estimator is never fitted.
        Prototype = checkedTransformer;
        checkedTransformer.Dispose();
    }

    /// <summary>An argument that must not be null (for the constructors' base calls).</summary>
    private protected static T NotNull<T>(T? value, string name)
        where T : class
        => value ?? throw new ArgumentNullException(name);

    /// <summary>The options an estimator builds from: the environment and options checked for null, the options copied (<see cref="OnnxModelOptions.Copy"/>).</summary>
    private protected static TOptions Copy<TOptions>(IHostEnvironment env, TOptions options)
        where TOptions : OnnxModelOptions
        => OnnxModelOptions.Copy(env, options);

    /// <summary>The checked settings and graph (its sessions released): what every <see cref="Fit"/> starts from.</summary>
    private protected TTransformer Prototype { get; }

    /// <summary>A new transformer (each <c>Fit</c> returns its own, disposed on its own, sharing the sessions of this estimator's live transformers), after checking that <paramref name="input"/> has the columns it reads.</summary>
    /// <param name="input">The data the transformer will transform.</param>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type or size.</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Prototype.BatchedMapper.GetOutputSchema(input.Schema);
        return (TTransformer)Prototype.Reopen();
    }

    /// <summary>The output schema shape: the input columns plus the added ones.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong item type or kind.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return Prototype.BatchedMapper.GetOutputSchema(inputSchema);
    }
}
