using Microsoft.ML;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vae;

/// <summary>
/// What the VAE transformers share beyond <see cref="OnnxTransformerBase"/>: the encoder and decoder graphs and their settings.
/// </summary>
public abstract class VaeTransformer : OnnxTransformerBase
{
    private protected VaeTransformer(VaeMapper mapper, VersionInfo version)
        : base(mapper, version)
        => Mapper = mapper;

    /// <summary>The size of the latent vector.</summary>
    public int LatentSize => Mapper.Config.LatentSize;

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize => Mapper.BatchSize;

    internal VaeMapper Mapper { get; }

    /// <summary>
    /// v2 (0x00010002): the config field by field, and seeded noise keyed by the upstream row's id. v1 (0x00010001): the config
    /// as JSON, noise keyed by the row's position; still read, and its noise is still keyed by position.
    /// </summary>
    internal const uint FieldsVersion = 0x00010002;
}
