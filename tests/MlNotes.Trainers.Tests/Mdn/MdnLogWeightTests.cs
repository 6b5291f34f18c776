using System;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace MlNotes.Trainers.Tests.Mdn;

/// <summary>A model whose mixture weight underflows to 0 in Single is evaluated as training measures it: from the log-softmax of the logits.</summary>
public sealed class MdnLogWeightTests
{
    private const double LogitGap = 200; // component 1's log-weight: e^-200 = 1.4e-87 is 0 in Single
    private const double FarMean = 20; // component 1's mean, standardized units; component 0's is 0

    private readonly ITestOutputHelper _output;

    public MdnLogWeightTests(ITestOutputHelper output) => _output = output;

    public sealed class Scored
    {
        public float[] MixtureWeights { get; set; } = Array.Empty<float>();

        public float[] MixtureLogWeights { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void Evaluation_of_a_model_whose_weight_underflows_equals_its_training_nll_and_the_value_by_hand()
    {
        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(MdnData.Inverse(32, 3).Select(r => new FixtureModels.MdnRow { Features = new[] { r.X }, Label = r.Label }));
        var model = ml.Regression.Trainers.MixtureDensityNetwork(new MdnTrainer.Options
        {
            NumberOfComponents = 2, HiddenLayerSizes = new[] { 3 }, NumberOfEpochs = 1, BatchSize = 32, Seed = 1, NumberOfThreads = 1,
        }).Fit(train);
        var p = model.Model;

        // The output layer made constant (weights 0): logits [0, -200], standardized means [0, 20], sigma pre-activations 0, so each
        // component's standardized sigma is MinimumSigma + softplus(0). Written into the trained model's own weights, test-only.
        var parameters = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(p.Parameters), p.Parameters.Length);
        var mlp = p.Network.Mlp;
        int last = mlp.LayerCount;
        parameters[mlp.WeightOffset(last)..mlp.BiasOffset(last)].Clear();
        new float[] { 0, (float)-LogitGap, 0, (float)FarMean, 0, 0 }.CopyTo(parameters.Slice(mlp.BiasOffset(last), p.Network.Head.OutputSize));

        // Two rows under component 1 (the underflowing one), one under component 0.
        double mean = p.LabelMean[0], scale = p.LabelScale[0];
        var labels = new[] { (float)(mean + scale * FarMean), (float)(mean + scale * (FarMean + 0.5)), (float)mean };
        var rows = labels.Select((y, i) => new FixtureModels.MdnRow { Features = new[] { 0.1f * i }, Label = y }).ToArray();
        var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var first = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).First();
        Assert.Equal(0f, first.MixtureWeights[1]); // the premise: Single underflow
        Assert.Equal((float)-LogitGap, first.MixtureLogWeights[1]);

        double evaluated = ml.Regression.EvaluateMdn(scored).NegativeLogLikelihood;

        // By hand in double, in label units: sigma = scale (min + log 2), log-weights log-softmax([0, -200]).
        double sigma = scale * (p.Network.Head.MinimumSigma + Math.Log(2));
        double[] logWeights = { -Math.Log(1 + Math.Exp(-LogitGap)), -LogitGap - Math.Log(1 + Math.Exp(-LogitGap)) };
        double[] means = { mean, mean + scale * FarMean };
        double byHand = labels.Average(y =>
        {
            var terms = Enumerable.Range(0, 2).Select(k => logWeights[k] - 0.5 * Math.Pow((y - means[k]) / sigma, 2) - Math.Log(sigma) - 0.5 * Math.Log(2 * Math.PI)).ToArray();
            double max = terms.Max();
            return -(max + Math.Log(terms.Sum(t => Math.Exp(t - max))));
        });

        // Training's NLL: the optimizer's own evaluation (Single, log-softmax) on the standardized rows, plus log(scale) for label units.
        var data = new MdnDataSet(rows.SelectMany(r => r.Features).ToArray(), labels.ToArray(), rows.Length);
        MdnDataLoader.Standardize(data, p.LabelMean, p.LabelScale);
        var optimizer = new MdnOptimizer(p.Network, new MdnSchedule(1, 32, 1e-3, 0, 0, 1, 0));
        double training = optimizer.Evaluate(p.Parameters.ToArray(), data) + Math.Log(scale);
        _output.WriteLine($"evaluator {evaluated:R}, by hand {byHand:R}, training {training:R}; gaps {evaluated - byHand:E2}, {evaluated - training:E2}");

        // Measured gaps: -3.7e-7 to the value by hand (the evaluator reads Single means and sigmas of order 1: relative rounding 6e-8 in
        // terms of order 1-100), -7.9e-7 to training's (Single arithmetic on row NLLs of order 100-200, whose ulp is 1.5e-5).
        // Before the fix the evaluator took log(0) for component 1 and scored those rows under component 0 alone (about 450 apart).
        Assert.True(double.IsFinite(evaluated));
        Assert.Equal(byHand, evaluated, 5e-6); // 13x the measured gap
        Assert.Equal(training, evaluated, 1e-4); // 7x training's own ulp at these magnitudes
    }
}
