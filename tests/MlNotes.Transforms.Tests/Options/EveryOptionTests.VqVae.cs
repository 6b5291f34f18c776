using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.VqVae;

namespace MlNotes.Transforms.Tests.Options;

/// <summary>The VQ-VAE transforms' option cases, on the models-onnx graphs (no tiny VQ-VAE exists) with three random images.</summary>
public sealed partial class EveryOptionTests
{
    private static void VqVae(System.Collections.Generic.List<OptionCase> cases)
    {
        var images = OptionRows.Random(3, 784, seed: 21, scale: 1);
        var pixels = images.Select((image, i) => new OptionRows.PixelRow { Image = image, Alt = images[2 - i] }).ToArray();
        IDataView Pixels(MLContext ml) => OptionRows.Load(ml, pixels, (nameof(OptionRows.PixelRow.Image), 784), (nameof(OptionRows.PixelRow.Alt), 784));
        string encoderFile = RepoPaths.Model("vqvae-fashion-encoder.onnx"), decoderFile = RepoPaths.Model("vqvae-fashion-decoder.onnx");
        string encoderManifest = RepoPaths.Model("vqvae-fashion-encoder.json"), decoderManifest = RepoPaths.Model("vqvae-fashion-decoder.json");

        var encoder = new CaseList<VqVaeEncoderEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), ManifestFile = encoderManifest },
            Pixels, (ml, o, data) => ml.Transforms.EncodeVqVae(o).Fit(data)), cases);
        Execution(encoder, encoderFile);
        encoder.Throws<NotSupportedException>(nameof(VqVaeEncoderEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        encoder.Differs(nameof(VqVaeEncoderEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(OptionRows.PixelRow.Alt));
        encoder.Differs(nameof(VqVaeEncoderEstimator.Options.CodesColumnName), o => o.CodesColumnName = "Tokens");
        encoder.Differs(nameof(VqVaeEncoderEstimator.Options.CodeVectorsColumnName), o => o.CodeVectorsColumnName = "CodeVectors");
        encoder.Differs(nameof(VqVaeEncoderEstimator.Options.LatentsColumnName), o => o.LatentsColumnName = "Latents");
        encoder.Compare(nameof(VqVaeEncoderEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var codes = Enumerable.Range(0, 3).Select(i => new CodesRow
        {
            Codes = Enumerable.Range(0, 49).Select(p => (uint)(((p * 7) + (i * 13)) % 64) + 1).ToArray(),
            Alt = Enumerable.Range(0, 49).Select(p => (uint)(((p * 5) + (i * 3)) % 64) + 1).ToArray(),
        }).ToArray();
        var decoder = new CaseList<VqVaeDecoderEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(decoderFile), ManifestFile = decoderManifest },
            ml => ml.Data.LoadFromEnumerable(codes), (ml, o, data) => ml.Transforms.DecodeVqVae(o).Fit(data)), cases);
        Execution(decoder, decoderFile);
        decoder.Throws<NotSupportedException>(nameof(VqVaeDecoderEstimator.Options.ManifestFile), o => o.ManifestFile = encoderManifest, Path.GetFileName(encoderManifest));
        decoder.Differs(nameof(VqVaeDecoderEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(CodesRow.Alt));
        decoder.Differs(nameof(VqVaeDecoderEstimator.Options.OutputColumnName), o => o.OutputColumnName = "Image");
        decoder.Compare(nameof(VqVaeDecoderEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);

        var reconstructor = new CaseList<VqVaeReconstructorEstimator.Options>(new(
            () => new() { ModelBytes = Bytes(encoderFile), DecoderModelBytes = Bytes(decoderFile), ManifestFile = encoderManifest },
            Pixels, (ml, o, data) => ml.Transforms.ReconstructVqVae(o).Fit(data)), cases);
        Execution(reconstructor, encoderFile);
        reconstructor.Throws<ArgumentOutOfRangeException>(nameof(VqVaeReconstructorEstimator.Options.DecoderModelFile), o => o.DecoderModelFile = decoderFile);
        reconstructor.Throws<InvalidOperationException>(nameof(VqVaeReconstructorEstimator.Options.DecoderModelBytes), o => o.DecoderModelBytes = s_garbage, NotOnnx + "DecoderModelBytes)");
        reconstructor.Throws<NotSupportedException>(nameof(VqVaeReconstructorEstimator.Options.ManifestFile), o => o.ManifestFile = decoderManifest, Path.GetFileName(decoderManifest));
        reconstructor.Differs(nameof(VqVaeReconstructorEstimator.Options.InputColumnName), o => o.InputColumnName = nameof(OptionRows.PixelRow.Alt));
        reconstructor.Differs(nameof(VqVaeReconstructorEstimator.Options.CodesColumnName), o => o.CodesColumnName = null);
        reconstructor.Differs(nameof(VqVaeReconstructorEstimator.Options.ReconstructionColumnName), o => o.ReconstructionColumnName = "Image");
        reconstructor.Differs(nameof(VqVaeReconstructorEstimator.Options.ReconstructionErrorColumnName), o => o.ReconstructionErrorColumnName = "Error");
        reconstructor.Compare(nameof(VqVaeReconstructorEstimator.Options.BatchSize), o => o.BatchSize = 1, MoreRuns);
    }

    private sealed class CodesRow
    {
        [KeyType(64)]
        [VectorType(49)]
        public uint[] Codes { get; set; } = Array.Empty<uint>();

        [KeyType(64)]
        [VectorType(49)]
        public uint[] Alt { get; set; } = Array.Empty<uint>();
    }
}
