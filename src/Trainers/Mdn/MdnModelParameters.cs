using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Numerics;

[assembly: LoadableClass(typeof(MdnModelParameters), null, typeof(SignatureLoadModel),
    "MlNotes mixture density network", MdnModelParameters.LoaderSignature)]

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// A trained mixture density network: maps a feature vector to a mixture of diagonal Gaussians over the label. Produced by <see cref="MdnTrainer"/>;
/// its prediction transformer adds <c>Score</c> (the mixture mean) and the columns named in <see cref="MdnColumnNames"/>.
/// </summary>
public sealed class MdnModelParameters : ModelParametersBase<float>, ISchemaBindableMapper
{
    internal const string LoaderSignature = "MlNotesMdnModel";

    private readonly float[] _parameters;
    private readonly double[] _labelMean;
    private readonly double[] _labelScale;

    internal MdnModelParameters(IHostEnvironment env, MdnNetwork<float> network, float[] parameters, double[] labelMean, double[] labelScale, double intervalCoverage)
        : base(env, LoaderSignature)
    {
        Network = network;
        _parameters = parameters;
        _labelMean = labelMean;
        _labelScale = labelScale;
        IntervalCoverage = intervalCoverage;
    }

    private MdnModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx)
    {
        var reader = ctx.Reader;
        int featureCount = reader.ReadInt32();
        int labelSize = reader.ReadInt32();
        int components = reader.ReadInt32();
        int hiddenCount = reader.ReadInt32();
        ThrowHelper.CheckEntry(ctx, featureCount > 0 && labelSize > 0 && components is > 0 and <= MdnTrainer.Defaults.MaxComponents && hiddenCount is > 0 and < 1000,
            $"sizes {featureCount} (features), {labelSize} (label), {components} (components), {hiddenCount} (hidden layers) where each must be positive and K at most {MdnTrainer.Defaults.MaxComponents}");
        var hidden = MlpShape.ReadHidden(ctx, hiddenCount);
        var activation = (Activation)reader.ReadInt32();
        var sigmaTransform = (MdnSigmaTransform)reader.ReadInt32();
        double minimumSigma = reader.ReadDouble();
        IntervalCoverage = reader.ReadDouble();
        ThrowHelper.CheckEntry(ctx, Enum.IsDefined(activation), $"unknown activation {(int)activation}");
        ThrowHelper.CheckEntry(ctx, Enum.IsDefined(sigmaTransform), $"unknown sigma transform {(int)sigmaTransform}");
        ThrowHelper.CheckEntry(ctx, minimumSigma > 0 && double.IsFinite(minimumSigma), $"minimum sigma {minimumSigma} is not a positive finite number");
        ThrowHelper.CheckEntry(ctx, IntervalCoverage is > 0 and < 1, $"interval coverage {IntervalCoverage} is not in (0, 1)");
        _labelMean = ReadDoubles(ctx, labelSize, "label mean");
        _labelScale = ReadDoubles(ctx, labelSize, "label scale");
        for (int d = 0; d < labelSize; d++)
        {
            ThrowHelper.CheckEntry(ctx, _labelScale[d] > 0, $"label scale {_labelScale[d]} of dimension {d} is not positive");
        }

        long architecture = MlpShape.ParameterCount(featureCount, hidden, components * (2 * labelSize + 1));
        MlpShape.CheckSize(ctx, architecture);
        Network = new MdnNetwork<float>(featureCount, hidden, activation, new MdnHead(components, labelSize, sigmaTransform, minimumSigma));
        _parameters = MlpShape.ReadParameters(ctx, Network.ParameterCount);
    }

    /// <summary>K, the number of Gaussian components.</summary>
    public int NumberOfComponents => Network.Head.Components;

    /// <summary>The size of the label (1 for a Single label).</summary>
    public int LabelSize => Network.Head.LabelSize;

    /// <summary>The size of the feature vector.</summary>
    public int FeatureCount => Network.FeatureCount;

    /// <summary>Units of each hidden layer, input side first.</summary>
    public IReadOnlyList<int> HiddenLayerSizes => Network.Mlp.Sizes[1..^1].ToArray();

    /// <summary>The hidden layers' nonlinearity.</summary>
    public Activation Activation => Network.Mlp.Activation;

    /// <summary>How the network's outputs become standard deviations.</summary>
    public MdnSigmaTransform SigmaTransform => Network.Head.SigmaTransform;

    /// <summary>Coverage of the central prediction interval the model outputs.</summary>
    public double IntervalCoverage { get; }

    internal MdnNetwork<float> Network { get; }

    internal ReadOnlySpan<float> Parameters => _parameters;

    internal ReadOnlySpan<double> LabelMean => _labelMean;

    internal ReadOnlySpan<double> LabelScale => _labelScale;

    /// <summary>Regression.</summary>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    ISchemaBoundMapper ISchemaBindableMapper.Bind(IHostEnvironment env, RoleMappedSchema schema) => new MdnBoundMapper(env, this, schema);

    /// <summary>Writes the architecture, the label standardization and the weights.</summary>
    /// <param name="ctx">The save context.</param>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());
        var writer = ctx.Writer;
        writer.Write(FeatureCount);
        writer.Write(LabelSize);
        writer.Write(NumberOfComponents);
        var hidden = HiddenLayerSizes;
        writer.Write(hidden.Count);
        foreach (int size in hidden)
        {
            writer.Write(size);
        }

        writer.Write((int)Activation);
        writer.Write((int)SigmaTransform);
        writer.Write(Network.Head.MinimumSigma);
        writer.Write(IntervalCoverage);
        foreach (double v in _labelMean.Concat(_labelScale))
        {
            writer.Write(v);
        }

        writer.Write(_parameters.Length);
        foreach (float p in _parameters)
        {
            writer.Write(p);
        }
    }

    /// <summary>Computes the mixture and its summaries for one feature vector.</summary>
    internal void Predict(ReadOnlySpan<float> features, Mlp<float>.Workspace workspace, MdnPrediction prediction, bool mode = true, bool interval = true)
    {
        var output = Network.Mlp.Forward(_parameters, features, 1, workspace);
        Network.Head.Decode(output, _labelMean, _labelScale, prediction.LogWeights, prediction.Weights, prediction.Means, prediction.Sigmas);
        prediction.Summarize(IntervalCoverage, mode, interval);
    }

    // Found by ML.NET's ComponentCatalog through the LoadableClass attribute above; differs in visibility from the constructor, as the catalog requires.
    internal static MdnModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        return new MdnModelParameters(env, ctx);
    }

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNMDNMP", LoaderSignature);

    private static double[] ReadDoubles(ModelLoadContext ctx, int count, string what)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ctx.Reader.ReadDouble();
            ThrowHelper.CheckEntry(ctx, double.IsFinite(values[i]), $"the {what} of dimension {i} is non-finite ({values[i]})");
        }

        return values;
    }
}
