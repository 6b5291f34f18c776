using System;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Manifests;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// How an image graph's vector output becomes one vector per image: [batch, size] as it is, [batch, size, 1, 1] (a CNN's pooled
/// features, ML.NET's ResNet18) flattened, [batch, tokens, size] (a vision transformer's tokens) pooled by <see cref="TokenPooling"/>.
/// </summary>
internal readonly record struct ImageEmbeddingShape(int Size, TokenPooling? Pooling)
{
    /// <summary>The shape of an output of dimensions <paramref name="dims"/>; null with <paramref name="problem"/> set when it is none of the three.</summary>
    public static ImageEmbeddingShape? Of(int[] dims, TokenPooling? pooling, out string? problem)
    {
        problem = null;
        if (dims.Length >= 2 && dims[1] > 0 && dims.Skip(2).All(d => d == 1))
        {
            if (pooling != null)
            {
                problem = $"TokenPooling ({pooling}) pools [batch, tokens, size] outputs, and this one holds no tokens: leave TokenPooling (and the manifest's pooling) unset";
                return null;
            }

            return new(dims[1], null);
        }

        if (dims.Length == 3 && dims[2] > 0 && dims[1] != 1)
        {
            if (pooling == null)
            {
                problem = "it holds tokens [batch, tokens, size]: set TokenPooling (ClassToken: torchvision's ViT, timm's 'token'; PatchMean: timm's 'avg'; Mean) or the manifest's pooling.kind (cls, patch-mean, mean)";
                return null;
            }

            return new(dims[2], pooling);
        }

        problem = "an embedding must be [batch, size], [batch, size, 1, 1] or [batch, tokens, size] with a known size";
        return null;
    }

    /// <summary>Resolves the shape of an embedding output at pipeline build time, throwing with the tensor, its shape and the remedy.</summary>
    public static ImageEmbeddingShape Resolve(string tensor, NodeMetadata meta, TokenPooling? pooling, string modelName)
    {
        var shape = Of(meta.Dimensions, pooling, out string? problem);
        return shape ?? ThrowHelper.InvalidOperation<ImageEmbeddingShape>(
            $"The ONNX output '{tensor}' of model {modelName} has shape [{string.Join(", ", meta.Dimensions)}]: {problem}.");
    }

    /// <summary>The pooling of the option, else the manifest's <c>pooling.kind</c>.</summary>
    public static TokenPooling? PoolingOf(TokenPooling? option, ModelManifest? manifest)
    {
        if (option != null || manifest?.Pooling?.Kind is not string kind)
        {
            return option;
        }

        return kind.ToLowerInvariant() switch
        {
            "cls" or "class-token" or "token" => TokenPooling.ClassToken,
            "mean" => TokenPooling.Mean,
            "patch-mean" or "avg" => TokenPooling.PatchMean,
            _ => throw ManifestFields.Unsupported(manifest, "pooling.kind", kind, "cls, mean, patch-mean for image graphs"),
        };
    }

    /// <summary>One image's vector from its output row (<see cref="Size"/> values, or tokens x <see cref="Size"/>).</summary>
    public void Pool(ReadOnlySpan<float> output, Span<float> destination)
    {
        if (Pooling is not TokenPooling pooling)
        {
            output[..Size].CopyTo(destination);
            return;
        }

        int tokens = output.Length / Size;
        if (pooling == TokenPooling.ClassToken || tokens < 1)
        {
            output[..Size].CopyTo(destination);
            return;
        }

        int from = pooling == TokenPooling.PatchMean && tokens > 1 ? 1 : 0;
        destination[..Size].Clear();
        for (int t = from; t < tokens; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(destination[..Size], output.Slice(t * Size, Size), destination[..Size]);
        }

        // torch's mean: the sum over the tokens, divided by their count.
        System.Numerics.Tensors.TensorPrimitives.Divide(destination[..Size], tokens - from, destination[..Size]);
    }
}
