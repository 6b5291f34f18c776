using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// What the image classifier's and the image encoder's transformers share: one image graph's session, the image mapping (the
/// image column, preprocessing, the count of unreadable images) and the batch size. Holds a native session: dispose it.
/// </summary>
public abstract class OnnxImageModelTransformer : OnnxTransformerBase
{
    private ImageMapper? _mapper;

    private protected OnnxImageModelTransformer(IHost host, OnnxModel model)
    {
        Host = host;
        Model = model;
    }

    /// <summary>Images per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    /// <summary>
    /// Rows whose image could not be read so far (with <c>ContinueOnError</c>), over every view and pass of this transformer: a row
    /// read twice counts twice.
    /// </summary>
    public long ErrorCount => Mapper.ErrorCount;

    /// <summary>
    /// Returns <see cref="ErrorCount"/> and sets it back to 0, so that a job can count one pass over its data (the count is
    /// cumulative over every view, cursor and pass of this transformer, including the ones an evaluator or a cache makes).
    /// </summary>
    /// <returns>The count before the reset.</returns>
    public long ResetErrorCount() => Mapper.ResetErrorCount();

    internal override IReadOnlyList<OnnxModel> Sessions => [Model];

    internal override IOnnxMapper BatchedMapper => Mapper;

    /// <summary>ONNX Runtime runs made so far (tests and benchmarks read it).</summary>
    internal long RunCount => Model.RunCount;

    private protected IHost Host { get; }

    private protected OnnxModel Model { get; }

    /// <summary>The image mapping, made once by the derived constructor (<see cref="Map"/>) after it has bound its tensors.</summary>
    private protected ImageMapper Mapper => _mapper ?? throw new InvalidOperationException("The image mapping is made in the constructor.");

    /// <summary>Makes <see cref="Mapper"/>: the image column read as <paramref name="config"/> says, the added columns and the batch of the derived type.</summary>
    private protected void Map(ImageModelConfig config, Func<DataViewSchema> addedColumns, Func<DataViewRow, bool[], int, IBatch> createBatch)
        => _mapper = new ImageMapper(this, config.CreateInput(), config.BatchSize, addedColumns, createBatch);

    /// <summary>
    /// Opens an image model for an estimator: the host, the batch size checked, the manifest checked for <paramref name="families"/>,
    /// the session, the settings resolved by <paramref name="resolve"/> and their tensors bound by <paramref name="bind"/> (the
    /// session disposed when either refuses).
    /// </summary>
    private protected static (IHost Host, OnnxModel Model, TConfig Config) Open<TConfig>(IHostEnvironment env, string name, OnnxImageModelOptions options,
        string catalogMethod, Func<ModelManifest?, OnnxModel, TConfig> resolve, Action<TConfig, OnnxModel> bind, params string[] families)
    {
        ArgumentNullException.ThrowIfNull(env);
        var host = env.Register(name);
        OnnxScoringTransformer.CheckBatchSize(options.BatchSize);
        var (model, config) = ImageMapper.Open(host, options, catalogMethod, (manifest, model) =>
        {
            var config = resolve(manifest, model);
            bind(config, model);
            return config;
        }, families);
        return (host, model, config);
    }
}
