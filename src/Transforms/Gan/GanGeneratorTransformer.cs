using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Gan;
using MlNotes.Transforms.Onnx;

[assembly: LoadableClass(typeof(GanGeneratorTransformer), null, typeof(SignatureLoadModel),
    "MlNotes GAN generator", GanGeneratorTransformer.LoaderSignature)]

namespace MlNotes.Transforms.Gan;

/// <summary>
/// The transformer of <see cref="GanGeneratorEstimator"/>: one generated image per row, in batches, from the row's noise (drawn
/// from the seed and the row's id, or read from a noise column); <see cref="Generate"/> makes a view of n images without input
/// rows. Holds a native session: dispose it.
/// </summary>
public sealed class GanGeneratorTransformer : OnnxTransformerBase
{
    internal const string LoaderSignature = "MlNotesGanGenerator";

    private static readonly VersionInfo s_version = ModelFormat.Version("MLNGANGE", LoaderSignature);

    internal GanGeneratorTransformer(GanMapper mapper)
        : base(mapper, s_version)
        => Mapper = mapper;

    /// <summary>The generated image column.</summary>
    public string OutputColumnName => Mapper.Config.ImageColumnName!;

    /// <summary>The noise column the generator reads, or null when it draws the noise from <see cref="Seed"/> and each row's id.</summary>
    public string? NoiseColumnName => Mapper.Config.NoiseColumnName;

    /// <summary>The size of a noise vector.</summary>
    public int NoiseSize => Mapper.Config.NoiseSize;

    /// <summary>The seed of the noise.</summary>
    public int Seed => Mapper.Config.Seed;

    /// <summary>The image's shape per row, e.g. (1, 28, 28): channels, height, width.</summary>
    public IReadOnlyList<int> ImageShape => Mapper.ImageDims.ToArray();

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    internal GanMapper Mapper { get; }

    /// <summary>
    /// <paramref name="count"/> generated images: a lazy view with <c>Index</c> (Int32, 0 to count - 1) and the image column. Image
    /// i's noise depends only on <see cref="Seed"/> and i, so the images do not change with the batch size, and the first k of
    /// 2k images are the k images.
    /// </summary>
    /// <param name="count">The number of images, at least 1.</param>
    /// <returns>The view; it scores when read.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">The generator reads its noise from a column (<see cref="NoiseColumnName"/>).</exception>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView Generate(int count)
    {
        ThrowIfDisposed();
        if (count < 1)
        {
            ThrowHelper.BadOption(nameof(count), $"The number of images must be at least 1, got {count}.");
        }

        if (NoiseColumnName != null)
        {
            ThrowHelper.InvalidOperation($"This generator reads its noise from the column '{NoiseColumnName}': transform a view with that column instead of calling Generate.");
        }

        var builder = new ArrayDataViewBuilder(Mapper.Host);
        builder.AddColumn("Index", NumberDataViewType.Int32, Enumerable.Range(0, count).ToArray());
        return Transform(builder.GetDataView());
    }

    internal override OnnxTransformerBase Reopen() => new GanGeneratorTransformer(Mapper.Reopen());

    private static GanGeneratorTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(GanMapper.Load(env, nameof(GanGeneratorTransformer), ctx, s_version, GanGraph.Generator));
}
