using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Text;

/// <summary>
/// The text encoder behind Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, for apps built on
/// that abstraction (vector stores, Semantic Kernel): the strings of one call go through the transform, so they are batched and
/// padded as the transform does, and the vectors are the transform's.
/// </summary>
internal sealed class OnnxTextEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly OnnxTextEncoderTransformer _encoder;
    private readonly MLContext _ml = new();
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

        var rows = values.Select(v => new TextRow { Text = v }).ToArray();
        var data = _ml.Data.LoadFromEnumerable(rows);
        var column = _encoder.Config.InputColumnName == nameof(TextRow.Text)
            ? data
            : _ml.Transforms.CopyColumns(_encoder.Config.InputColumnName, nameof(TextRow.Text)).Fit(data).Transform(data);
        var output = _encoder.Transform(column);
        var result = new GeneratedEmbeddings<Embedding<float>>(rows.Length);
        var embedding = output.Schema[_encoder.Config.EmbeddingColumnName];
        using (var cursor = output.GetRowCursor(new[] { embedding }))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(embedding);
            VBuffer<float> vector = default;
            while (cursor.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                getter(ref vector);
                result.Add(new Embedding<float>(vector.DenseValues().ToArray()) { ModelId = _metadata.DefaultModelId, CreatedAt = DateTimeOffset.UtcNow });
            }
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

    private sealed class TextRow
    {
        public string? Text { get; set; }
    }
}
