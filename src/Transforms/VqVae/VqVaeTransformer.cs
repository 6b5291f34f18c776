using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.VqVae;

[assembly: LoadableClass(typeof(VqVaeTransformer), null, typeof(SignatureLoadModel),
    "MlNotes VQ-VAE", VqVaeTransformer.LoaderSignature)]

namespace MlNotes.Transforms.VqVae;

/// <summary>
/// The transformer of <see cref="VqVaeEncoderEstimator"/>, <see cref="VqVaeDecoderEstimator"/> and
/// <see cref="VqVaeReconstructorEstimator"/>: a VQ-VAE's encoder and/or decoder graphs and the codebook, run in batches.
/// Holds native sessions: dispose it.
/// </summary>
public sealed class VqVaeTransformer : OnnxTransformerBase
{
    internal const string LoaderSignature = "MlNotesVqVae";

    private static readonly VersionInfo s_version = ModelFormat.Version("MLNVQVAE", LoaderSignature);

    internal VqVaeTransformer(VqVaeMapper mapper)
        : base(mapper, s_version)
        => Mapper = mapper;

    /// <summary>The number of codes.</summary>
    public int CodebookSize => Mapper.Config.CodebookSize;

    /// <summary>The size of each code vector.</summary>
    public int CodeSize => Mapper.Config.CodeSize;

    /// <summary>The latent grid (height, width): one code per position.</summary>
    public IReadOnlyList<int> Grid => new[] { Mapper.Config.GridHeight, Mapper.Config.GridWidth };

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    internal VqVaeMapper Mapper { get; }

    /// <summary>A copy of the codebook: <see cref="CodebookSize"/> rows of <see cref="CodeSize"/> values.</summary>
    /// <returns>The codebook, one array per code.</returns>
    public float[][] GetCodebook() => Enumerable.Range(0, CodebookSize).Select(k => Mapper.Config.Codebook.AsSpan(k * CodeSize, CodeSize).ToArray()).ToArray();

    internal override OnnxTransformerBase Reopen() => new VqVaeTransformer(Mapper.Reopen());

    private static VqVaeTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(VqVaeMapper.Load(env, nameof(VqVaeTransformer), ctx, s_version));
}
