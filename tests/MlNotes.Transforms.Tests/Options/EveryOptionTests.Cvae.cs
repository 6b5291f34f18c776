using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Cvae;

namespace MlNotes.Transforms.Tests.Options;

/// <summary>The CVAE transforms' option cases, on the tiny CVAE (TestModels/cvae: 8 x 8 images, 3 classes, latent size 2).</summary>
public sealed partial class EveryOptionTests
{
    private static void Cvae(System.Collections.Generic.List<OptionCase> cases)
    {
        string folder = TestModels.Path("cvae");
        string encoderFile = Path.Combine(folder, "tiny_cvae_encoder.onnx"), decoderFile = Path.Combine(folder, "tiny_cvae_decoder.onnx");
        string encoderManifest = Path.Combine(folder, "tiny_cvae_encoder.json"), decoderManifest = Path.Combine(folder, "tiny_cvae_decoder.json");
        var images = OptionRows.Random(3, 64, seed: 31, scale: 1);
        var noise = OptionRows.Random(3, 2, seed: 32, scale: 4, offset: -2);
        var rows = Enumerable.Range(0, 3).Select(i => new CvaeRow { Image = images[i], Alt = images[2 - i], Label = i, AltLabel = (i + 1) % 3, Noise = noise[i] }).ToArray();
        IDataView Rows(MLContext ml) => OptionRows.Load(ml, rows, (nameof(CvaeRow.Image), 64), (nameof(CvaeRow.Alt), 64), (nameof(CvaeRow.Noise), 2));

        var generator = new CaseList<CvaeGeneratorEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(decoderFile), ManifestFile = decoderManifest },
            Rows, (ml, o, data) => ml.Transforms.GenerateCvae(o).Fit(data)), cases);
        Execution(generator, decoderFile);
        generator.Throws<NotSupportedException>(nameof(CvaeGeneratorEstimator.Options.ManifestFile), o => o.ManifestFile = encoderManifest, Path.GetFileName(encoderManifest));
        generator.Differs(nameof(CvaeGeneratorEstimator.Options.LabelColumnName), o => o.LabelColumnName = nameof(CvaeRow.AltLabel));
        generator.Differs(nameof(CvaeGeneratorEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Image8");
        generator.Differs(nameof(CvaeGeneratorEstimator.Options.NoiseColumnName), o => o.NoiseColumnName = nameof(CvaeRow.Noise));
        generator.Differs(nameof(CvaeGeneratorEstimator.Options.Seed), o => o.Seed = 5);
        generator.Compare(nameof(CvaeGeneratorEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var scorer = new CaseList<CvaeScorerEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), DecoderModelBytes = Bytes(decoderFile), ManifestFile = encoderManifest },
            Rows, (ml, o, data) => ml.Transforms.ScoreCvae(o).Fit(data)), cases);
        Execution(scorer, encoderFile);
        scorer.Throws<ArgumentOutOfRangeException>(nameof(CvaeScorerEstimator.Options.DecoderModelFile), o => o.DecoderModelFile = decoderFile);
        scorer.Throws<InvalidOperationException>(nameof(CvaeScorerEstimator.Options.DecoderModelBytes), o => o.DecoderModelBytes = s_garbage, NotOnnx + "DecoderModelBytes)");
        scorer.Throws<NotSupportedException>(nameof(CvaeScorerEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        scorer.Differs(nameof(CvaeScorerEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(CvaeRow.Alt));
        scorer.Differs(nameof(CvaeScorerEstimator.Options.LabelColumnName), o => o.LabelColumnName = nameof(CvaeRow.AltLabel));
        scorer.Differs(nameof(CvaeScorerEstimator.Options.ElboColumnName), o => o.ElboColumnName = "Bound");
        scorer.Differs(nameof(CvaeScorerEstimator.Options.ReconstructionLogLikelihoodColumnName), o => o.ReconstructionLogLikelihoodColumnName = null);
        scorer.Differs(nameof(CvaeScorerEstimator.Options.KlDivergenceColumnName), o => o.KlDivergenceColumnName = "Kl");
        scorer.Differs(nameof(CvaeScorerEstimator.Options.NoiseColumnName), o => o.NoiseColumnName = nameof(CvaeRow.Noise));
        scorer.Differs(nameof(CvaeScorerEstimator.Options.Seed), o => o.Seed = 5);
        scorer.Differs(nameof(CvaeScorerEstimator.Options.UseLatentMean), o => o.UseLatentMean = true);
        scorer.Compare(nameof(CvaeScorerEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var classifier = new CaseList<CvaeClassifierEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), DecoderModelBytes = Bytes(decoderFile), ManifestFile = encoderManifest },
            Rows, (ml, o, data) => ml.Transforms.ClassifyCvae(o).Fit(data)), cases);
        Execution(classifier, encoderFile);
        classifier.Throws<ArgumentOutOfRangeException>(nameof(CvaeClassifierEstimator.Options.DecoderModelFile), o => o.DecoderModelFile = decoderFile);
        classifier.Throws<InvalidOperationException>(nameof(CvaeClassifierEstimator.Options.DecoderModelBytes), o => o.DecoderModelBytes = s_garbage, NotOnnx + "DecoderModelBytes)");
        classifier.Throws<NotSupportedException>(nameof(CvaeClassifierEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        classifier.Differs(nameof(CvaeClassifierEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(CvaeRow.Alt));
        classifier.Differs(nameof(CvaeClassifierEstimator.Options.ScoreColumnName), o => o.ScoreColumnName = "Posterior");
        classifier.Differs(nameof(CvaeClassifierEstimator.Options.PredictedLabelColumnName), o => o.PredictedLabelColumnName = "Class");
        classifier.Differs(nameof(CvaeClassifierEstimator.Options.ClassPriors), o => o.ClassPriors = new[] { 100f, 1f, 1f });
        classifier.Compare(nameof(CvaeClassifierEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);
    }

    private sealed class CvaeRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public float[] Alt { get; set; } = Array.Empty<float>();

        public int Label { get; set; }

        public int AltLabel { get; set; }

        public float[] Noise { get; set; } = Array.Empty<float>();
    }
}
