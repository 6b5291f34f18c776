using System;
using System.Linq;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Vae;
using MlNotes.Transforms.Vision;

namespace MlNotes.Transforms.VqVae;

/// <summary>How a VQ-VAE mapper resolves its tensors, grid, codebook and preprocessing from the graphs and their manifests.</summary>
internal sealed partial class VqVaeMapper
{
    private static VqVaeConfig Resolve(VqVaeConfig r, OnnxModel? encoder, ModelManifest? encoderManifest, OnnxModel? decoder, ModelManifest? decoderManifest)
    {
        var c = r;
        int[] grid = Array.Empty<int>();
        if (encoder != null)
        {
            string image = VaeGraphs.Tensor(encoder, encoderManifest?.Role("image"), "image", isInput: true);
            string latents = VaeGraphs.Tensor(encoder, encoderManifest?.Role("latents"), "latents", isInput: false);
            int[] dims = encoder.InputMetadata[image].Dimensions;
            if (dims.Length != 4 || dims.Skip(1).Any(d => d <= 0))
            {
                ThrowHelper.InvalidOperation($"The ONNX input '{image}' of model {encoder.Name} has shape [{string.Join(", ", dims)}]: a VQ-VAE encoder takes images of a fixed size [batch, channels, height, width].");
            }

            grid = Grid(encoder, latents, isInput: false);
            var spec = encoderManifest?.Preprocessing;
            var preprocessing = spec != null
                ? ImagePreprocessingSettings.FromManifest(spec, encoderManifest!.Source)
                : new ImagePreprocessingSettings(dims[3], dims[2], dims[1], ResizeKind.None, 0, false, 1.0 / 255, new float[dims[1]], Enumerable.Repeat(1f, dims[1]).ToArray());
            preprocessing.Validate();
            if (preprocessing.Channels != dims[1] || preprocessing.Height != dims[2] || preprocessing.Width != dims[3])
            {
                ThrowHelper.InvalidOperation($"The model manifest {encoderManifest!.Source} preprocesses to {preprocessing.Channels} x {preprocessing.Height} x {preprocessing.Width}, but the ONNX input '{image}' of model {encoder.Name} is [{string.Join(", ", dims)}].");
            }

            c = c with { ImageTensorName = image, LatentsTensorName = latents, Preprocessing = preprocessing };
        }

        if (decoder != null)
        {
            string codes = VaeGraphs.Tensor(decoder, decoderManifest?.Role("codes"), "codes", isInput: true);
            string reconstruction = VaeGraphs.Tensor(decoder, decoderManifest?.Role("reconstruction"), "reconstruction", isInput: false);
            int[] decoderGrid = Grid(decoder, codes, isInput: true);
            if (grid.Length > 0 && !grid.SequenceEqual(decoderGrid))
            {
                ThrowHelper.InvalidOperation($"The decoder's input '{codes}' of model {decoder.Name} takes a [{string.Join(", ", decoderGrid)}] grid of codes, but the encoder {encoder!.Name} gives [{string.Join(", ", grid)}].");
            }

            int[] dims = decoder.OutputMetadata[reconstruction].Dimensions;
            if (dims.Length < 2 || dims.Skip(1).Any(d => d <= 0) || (encoder != null && dims.Skip(1).Aggregate(1, (a, b) => a * b) != encoder.InputMetadata[c.ImageTensorName].Dimensions.Skip(1).Aggregate(1, (a, b) => a * b)))
            {
                ThrowHelper.InvalidOperation($"The decoder's output '{reconstruction}' of model {decoder.Name} has shape [{string.Join(", ", dims)}]: it must have a fixed size, that of the encoder's images.");
            }

            grid = decoderGrid;
            c = c with { CodesTensorName = codes, ReconstructionTensorName = reconstruction };
        }

        // The codebook: the encoder's manifest, else the decoder's; both, when both have one, must agree.
        var holder = encoderManifest?.Codebook != null ? encoderManifest : decoderManifest?.Codebook != null ? decoderManifest : null;
        if (holder == null)
        {
            ThrowHelper.InvalidOperation($"No codebook for the VQ-VAE graph {(encoder ?? decoder)!.Name}: its manifest ({(encoderManifest ?? decoderManifest)?.Source ?? "none found; give ManifestFile"}) has no 'codebook' (codebook_size rows of code_dim values).");
        }

        float[] book = holder!.Codebook!.SelectMany(row => row).ToArray();
        if (encoderManifest?.Codebook != null && decoderManifest?.Codebook != null && !book.SequenceEqual(decoderManifest.Codebook.SelectMany(row => row)))
        {
            ThrowHelper.InvalidOperation($"The model manifests {encoderManifest.Source} and {decoderManifest.Source} have different codebooks: the decoder would decode codes it was not trained on.");
        }

        int size = holder.Codebook!.Length, dim = book.Length / size;
        if (dim != grid[2] || (holder.Grid is { } declared && !declared.SequenceEqual(grid.Take(2))))
        {
            ThrowHelper.InvalidOperation($"The model manifest {holder.Source} has a grid [{string.Join(", ", holder.Grid ?? Array.Empty<int>())}] of codes of size {dim}, but the graph's grid is [{string.Join(", ", grid)}].");
        }

        return c with { GridHeight = grid[0], GridWidth = grid[1], CodeSize = dim, CodebookSize = size, Codebook = book };
    }

    /// <summary>(height, width, code size) of a [batch, height, width, code size] latent grid.</summary>
    private static int[] Grid(OnnxModel model, string tensor, bool isInput)
    {
        int[] dims = (isInput ? model.InputMetadata : model.OutputMetadata)[tensor].Dimensions;
        return dims.Length == 4 && dims.Skip(1).All(d => d > 0)
            ? dims.Skip(1).ToArray()
            : ThrowHelper.InvalidOperation<int[]>($"The ONNX tensor '{tensor}' of model {model.Name} has shape [{string.Join(", ", dims)}]: a VQ-VAE latent grid is [batch, height, width, code size], channels last.");
    }
}
