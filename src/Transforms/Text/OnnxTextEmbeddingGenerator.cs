using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace MlNotes.Transforms.Text;

/// <summary>
/// The text encoder behind Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, for apps built on
/// that abstraction (vector stores, Semantic Kernel): the strings of one call go through the transform, so they are batched and
/// padded as the transform does, and the vectors are the transform's.
/// </summary>
internal sealed class OnnxTextEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly OnnxTextEncoderTransformer _encoder;
    private readonly EmbeddingGeneratorMetadata _metadata;

    public OnnxTextEmbeddingGenerator(OnnxTextEncoderTransformer encoder, string modelId)
    {
        _encoder = encoder;
        _metadata = new EmbeddingGeneratorMetadata("MlNotes", null, modelId, encoder.EmbeddingSize);
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        cancellationToken.ThrowIfCancellationRequested();
        if (options?.Dimensions is int dimensions && dimensions != _encoder.EmbeddingSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"This encoder gives {_encoder.EmbeddingSize}-dimensional embeddings, not {dimensions}.");
        }

        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (float[] vector in _encoder.Embed(values, cancellationToken))
        {
            result.Add(new Embedding<float>(vector) { ModelId = _metadata.DefaultModelId, CreatedAt = DateTimeOffset.UtcNow });
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : serviceType.IsInstanceOfType(_encoder) ? _encoder : null;
    }

    // The encoder belongs to whoever built it; the generator only borrows it.
    public void Dispose()
    {
    }
}
