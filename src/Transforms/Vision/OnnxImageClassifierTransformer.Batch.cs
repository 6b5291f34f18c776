using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

public sealed partial class OnnxImageClassifierTransformer
{
    private OutputColumn<Batch, ClassifierNeeds>[]? _columns;

    /// <summary>What a batch computes for an added column.</summary>
    [Flags]
    private enum ClassifierNeeds
    {
        None = 0,
        Logits = 1,
        Probabilities = 2,
        Label = 4,
        TopK = 8,
        Embedding = 16,
        Energy = 32,
    }

    /// <summary>The added columns, in schema order: the one table the schema, the batch's work and the getters read.</summary>
    private OutputColumn<Batch, ClassifierNeeds>[] Columns => _columns ??= CreateColumns();

    internal DataViewSchema OutputColumnsSchema() => OutputColumns.Schema(Columns);

    private OutputColumn<Batch, ClassifierNeeds>[] CreateColumns()
    {
        var c = Config;
        var classes = ClassificationOutputs.Columns(c.ScoreColumnName, c.PredictedLabelColumnName, _classNames);
        var columns = new List<OutputColumn<Batch, ClassifierNeeds>>
        {
            new(classes[0], ClassifierNeeds.Logits | ClassifierNeeds.Probabilities, (b, slot) => OutputColumns.Vector(() => b.Scores(slot()))),
            new(classes[1], ClassifierNeeds.Logits | ClassifierNeeds.Label, (b, slot) => (ValueGetter<uint>)((ref uint dst) => dst = b.Label(slot()))),
        };
        if (c.LogitsColumnName != null)
        {
            // Slot names only: the score-column kinds would make evaluators take it for the Score column.
            var names = _classNames;
            var slotNames = new DataViewSchema.Annotations.Builder();
            slotNames.AddSlotNames(names.Length, (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(names.Length, names.ToArray()));
            columns.Add(new(new(c.LogitsColumnName, new VectorDataViewType(NumberDataViewType.Single, _classNames.Length), slotNames.ToAnnotations()), ClassifierNeeds.Logits,
                (b, slot) => OutputColumns.Vector(() => b.Logits(slot()))));
        }

        if (c.TopK > 0)
        {
            const ClassifierNeeds topK = ClassifierNeeds.Logits | ClassifierNeeds.Probabilities | ClassifierNeeds.TopK;
            columns.Add(new(new(TopKLabelsSuffix, new VectorDataViewType(TextDataViewType.Instance, c.TopK)), topK, (b, slot) => b.TopKLabelsGetter(slot)));
            columns.Add(new(new(TopKScoresSuffix, new VectorDataViewType(NumberDataViewType.Single, c.TopK)), topK, (b, slot) => b.TopKScoresGetter(slot)));
        }

        if (c.EnergyColumnName != null)
        {
            columns.Add(new(new(c.EnergyColumnName, NumberDataViewType.Single), ClassifierNeeds.Logits | ClassifierNeeds.Energy,
                (b, slot) => (ValueGetter<float>)((ref float dst) => dst = b.Energy(slot()))));
        }

        if (c.EmbeddingColumnName != null && c.EmbeddingTensorName != null)
        {
            columns.Add(new(new(c.EmbeddingColumnName, new VectorDataViewType(NumberDataViewType.Single, _embeddingShape!.Value.Size)),
                ClassifierNeeds.Embedding, (b, slot) => OutputColumns.Vector(() => b.Embedding(slot()))));
        }

        if (c.ErrorColumnName != null)
        {
            columns.Add(ImageBatch.ErrorColumn<Batch, ClassifierNeeds>(c.ErrorColumnName));
        }

        return columns.ToArray();
    }

    /// <summary>
    /// One batch: images preprocessed straight into the input tensor, one run, then each row's probabilities, label and top-k
    /// computed once in <see cref="Run"/> (for the active columns only); the getters copy them out.
    /// </summary>
    private sealed class Batch : ImageBatch
    {
        private readonly OnnxImageClassifierTransformer _parent;
        private readonly ClassifierNeeds _needs;
        private readonly int _classes;
        private readonly int _k;
        private readonly float[] _probabilities;
        private readonly uint[] _labels;
        private readonly int[] _topK;
        private readonly float[] _energy;
        private float[]? _nans;
        private float[]? _pooled;

        public Batch(OnnxImageClassifierTransformer parent, DataViewRow source, bool[] activeOutputs, int capacity)
            : base(parent.Mapper, source, parent.Config.Preprocessing, parent.Config.ErrorColumnName != null, capacity)
        {
            _parent = parent;
            var c = parent.Config;
            _needs = OutputColumns.Needs(parent.Columns, activeOutputs);

            _classes = c.ClassNames.Length;
            _k = c.TopK;
            _probabilities = new float[Want(ClassifierNeeds.Probabilities) ? capacity * _classes : 0];
            _labels = new uint[capacity];
            _topK = new int[Want(ClassifierNeeds.TopK) ? capacity * _k : 0];
            _energy = new float[Want(ClassifierNeeds.Energy) ? capacity : 0];
            bool logits = Want(ClassifierNeeds.Logits), embedding = Want(ClassifierNeeds.Embedding);
            var onnxActive = parent._outputs.Length == 2 ? new[] { logits, embedding } : new[] { logits };
            Open(parent.Model, parent._image, parent._outputs, onnxActive, capacity);
        }

        public override void Run()
        {
            Onnx.Run();
            if (!Want(ClassifierNeeds.Logits))
            {
                return;
            }

            for (int s = 0; s < Count; s++)
            {
                if (Failed(s))
                {
                    if (Want(ClassifierNeeds.Probabilities))
                    {
                        _probabilities.AsSpan(s * _classes, _classes).Fill(float.NaN);
                    }

                    _labels[s] = 0;
                    if (Want(ClassifierNeeds.Energy))
                    {
                        _energy[s] = float.NaN;
                    }

                    continue;
                }

                var logits = Onnx.OutputRow<float>(0, s);
                if (Want(ClassifierNeeds.Probabilities))
                {
                    ClassificationOutputs.Softmax(logits, _probabilities.AsSpan(s * _classes, _classes));
                }

                if (Want(ClassifierNeeds.Label))
                {
                    _labels[s] = ClassificationOutputs.PredictedKey(logits);
                }

                if (Want(ClassifierNeeds.Energy))
                {
                    _energy[s] = -ClassificationOutputs.LogSumExp(logits);
                }

                if (Want(ClassifierNeeds.TopK))
                {
                    Rank(_probabilities.AsSpan(s * _classes, _classes), _topK.AsSpan(s * _k, _k));
                }
            }
        }

        public override Delegate GetGetter(int outputIndex, Func<int> slot) => _parent.Columns[outputIndex].Getter(this, slot);

        public ReadOnlySpan<float> Scores(int slot) => _probabilities.AsSpan(slot * _classes, _classes);

        public uint Label(int slot) => _labels[slot];

        public float Energy(int slot) => _energy[slot];

        public ReadOnlySpan<float> Logits(int slot)
            => Failed(slot) ? NaNs(_classes) : Onnx.OutputRow<float>(0, slot)[.._classes];

        public ReadOnlySpan<float> Embedding(int slot)
        {
            var shape = _parent._embeddingShape!.Value;
            if (Failed(slot))
            {
                return NaNs(shape.Size);
            }

            var output = Onnx.OutputRow<float>(1, slot);
            if (shape.Pooling == null)
            {
                return output[..shape.Size];
            }

            _pooled ??= new float[shape.Size];
            shape.Pool(output, _pooled);
            return _pooled;
        }

        public ValueGetter<VBuffer<ReadOnlyMemory<char>>> TopKLabelsGetter(Func<int> slot) => (ref VBuffer<ReadOnlyMemory<char>> dst) =>
        {
            int s = slot();
            var editor = VBufferEditor.Create(ref dst, _k);
            for (int i = 0; i < _k; i++)
            {
                editor.Values[i] = Failed(s) ? ReadOnlyMemory<char>.Empty : _parent._classNames[_topK[(s * _k) + i]];
            }

            dst = editor.Commit();
        };

        public ValueGetter<VBuffer<float>> TopKScoresGetter(Func<int> slot) => (ref VBuffer<float> dst) =>
        {
            int s = slot();
            var editor = VBufferEditor.Create(ref dst, _k);
            for (int i = 0; i < _k; i++)
            {
                editor.Values[i] = Failed(s) ? float.NaN : _probabilities[(s * _classes) + _topK[(s * _k) + i]];
            }

            dst = editor.Commit();
        };

        private bool Want(ClassifierNeeds needs) => (_needs & needs) != 0;

        private ReadOnlySpan<float> NaNs(int length)
        {
            if (_nans == null || _nans.Length < length)
            {
                _nans = new float[length];
                Array.Fill(_nans, float.NaN);
            }

            return _nans.AsSpan(0, length);
        }

        // The k best classes, highest probability first; ties keep the lower class index first (all-NaN rows: index order).
        private static void Rank(ReadOnlySpan<float> probabilities, Span<int> top)
        {
            int count = 0;
            for (int i = 0; i < probabilities.Length; i++)
            {
                if (count == top.Length && !(probabilities[i].CompareTo(probabilities[top[count - 1]]) > 0))
                {
                    continue;
                }

                int at = count < top.Length ? count++ : count - 1;
                while (at > 0 && probabilities[i].CompareTo(probabilities[top[at - 1]]) > 0)
                {
                    top[at] = top[at - 1];
                    at--;
                }

                top[at] = i;
            }
        }
    }
}
