using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

public sealed partial class OnnxImageEncoderTransformer
{
    private OutputColumn<Batch, EncoderNeeds>[]? _columns;

    /// <summary>What a batch computes for an added column.</summary>
    [Flags]
    private enum EncoderNeeds
    {
        None = 0,
        Embedding = 1,
    }

    /// <summary>The added columns, in schema order: the one table the schema, the batch's work and the getters read.</summary>
    private OutputColumn<Batch, EncoderNeeds>[] Columns => _columns ??= CreateColumns();

    internal DataViewSchema OutputColumnsSchema() => OutputColumns.Schema(Columns);

    private OutputColumn<Batch, EncoderNeeds>[] CreateColumns()
    {
        var columns = new List<OutputColumn<Batch, EncoderNeeds>>
        {
            new(new(Config.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, EmbeddingSize)), EncoderNeeds.Embedding,
                (b, slot) => OutputColumns.Vector(() => b.Embedding(slot()))),
        };
        if (Config.ErrorColumnName != null)
        {
            columns.Add(ImageBatch.ErrorColumn<Batch, EncoderNeeds>(Config.ErrorColumnName));
        }

        return columns.ToArray();
    }

    /// <summary>
    /// One batch: images preprocessed straight into the input tensor, one run, then each row's embedding (normalized when asked,
    /// NaN for an unreadable image) computed once in <see cref="Run"/>; the getter copies it out.
    /// </summary>
    private sealed class Batch : ImageBatch
    {
        private readonly OnnxImageEncoderTransformer _parent;
        private readonly bool _wantEmbedding;
        private readonly int _size;
        private readonly float[] _embeddings;

        public Batch(OnnxImageEncoderTransformer parent, DataViewRow source, bool[] activeOutputs, int capacity)
            : base(parent.Mapper, source, parent.Config.Preprocessing, parent.Config.ErrorColumnName != null, capacity)
        {
            _parent = parent;
            _wantEmbedding = (OutputColumns.Needs(parent.Columns, activeOutputs) & EncoderNeeds.Embedding) != 0;
            _size = parent.EmbeddingSize;
            _embeddings = new float[_wantEmbedding ? capacity * _size : 0];
            Open(parent.Model, parent._image, new[] { parent._embedding }, new[] { _wantEmbedding }, capacity);
        }

        public override void Run()
        {
            Onnx.Run();
            if (!_wantEmbedding)
            {
                return;
            }

            bool normalize = _parent.Config.Normalize;
            for (int s = 0; s < Count; s++)
            {
                var row = _embeddings.AsSpan(s * _size, _size);
                if (Failed(s))
                {
                    row.Fill(float.NaN);
                    continue;
                }

                _parent._shape.Pool(Onnx.OutputRow<float>(0, s), row);
                if (normalize)
                {
                    EmbeddingMath.Normalize(row);
                }
            }
        }

        public override Delegate GetGetter(int outputIndex, Func<int> slot) => _parent.Columns[outputIndex].Getter(this, slot);

        public ReadOnlySpan<float> Embedding(int slot) => _embeddings.AsSpan(slot * _size, _size);
    }
}
