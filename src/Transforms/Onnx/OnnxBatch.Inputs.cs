using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

/// <summary>The graph inputs of a batch: one slot per row, packed into one tensor per run.</summary>
internal sealed partial class OnnxBatch : IBatch
{
    /// <summary>One graph input's rows, back to back in one pinned buffer.</summary>
    internal abstract class InputSlots : TensorSlots
    {
        protected InputSlots(OnnxColumnBinding binding, int capacity)
            : base(binding, capacity)
        {
        }

        public abstract void Fill(int slot, long position, int row, int sequenceLength, string modelName);

        /// <summary>The tensor of rows <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/>, followed by zero rows up to <paramref name="rows"/> (a fixed batch).</summary>
        public abstract OrtValue CreateTensor(int first, int count, int rows);

        protected void SetShape(int first, int count)
        {
            var tensor = Binding.Tensor;
            Shape[0] = count;
            int rowLength = RowLength(first);
            for (int d = 0; d < tensor.RowDims.Length; d++)
            {
                int dim = tensor.RowDims[d];
                Shape[d + 1] = dim > 0 ? dim : rowLength / tensor.KnownRowElements;
            }
        }

        protected void CheckLength(int length, long position, string modelName)
        {
            var tensor = Binding.Tensor;
            bool ok = tensor.RowElements > 0
                ? length == tensor.RowElements
                : length > 0 && length % tensor.KnownRowElements == 0;
            if (!ok)
            {
                string expected = tensor.RowElements > 0
                    ? $"{tensor.RowElements} values"
                    : $"a positive multiple of {tensor.KnownRowElements} values";
                throw new InvalidOperationException(
                    $"Column '{Binding.ColumnName}' at row position {position}: expected {expected} for the ONNX input '{tensor.Name}' " +
                    $"{tensor.ShapeText} of model {modelName}, got {length}.");
            }
        }
    }

    private abstract class InputSlots<T> : InputSlots
        where T : unmanaged
    {
        protected InputSlots(OnnxColumnBinding binding, int capacity)
            : base(binding, capacity)
        {
            int perRow = binding.Tensor.RowElements > 0 ? binding.Tensor.RowElements : 16;
            Data = GC.AllocateUninitializedArray<T>(Math.Max(1, capacity * perRow), pinned: true);
        }

        protected T[] Data { get; private set; }

        public override OrtValue CreateTensor(int first, int count, int rows)
        {
            SetShape(first, count);
            int start = Offsets[first];
            int length = Offsets[first + count] - start;
            if (rows > count)
            {
                // Fixed-batch graphs have fixed row sizes (OnnxTensorInfo): pad with whole zero rows.
                int rowLength = length / count;
                Reserve(start + (rows * rowLength));
                Data.AsSpan(start + length, (rows - count) * rowLength).Clear();
                length = rows * rowLength;
                Shape[0] = rows;
            }

            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(Data, start, length), Shape);
        }

        protected void Reserve(int size)
        {
            if (size > Data.Length)
            {
                var larger = GC.AllocateUninitializedArray<T>(Math.Max(size, Data.Length * 2), pinned: true);
                Data.AsSpan().CopyTo(larger);
                Data = larger;
            }
        }
    }

    private sealed class ComputedInputSlots<T> : InputSlots<T>
        where T : unmanaged
    {
        private readonly RowSlotFiller<T> _fill;

        public ComputedInputSlots(OnnxColumnBinding binding, RowSlotFiller<T> fill, int capacity)
            : base(binding, capacity)
        {
            if (binding.Tensor.RowElements <= 0)
            {
                throw new ArgumentException($"A computed input needs a known row size; '{binding.Tensor.Name}' is {binding.Tensor.ShapeText}.", nameof(binding));
            }

            _fill = fill;
        }

        public override void Fill(int slot, long position, int row, int sequenceLength, string modelName)
        {
            int offset = Offsets[slot];
            int length = Binding.Tensor.RowElements;
            _fill(Data.AsSpan(offset, length), position, row);
            Offsets[slot + 1] = offset + length;
        }
    }

    private sealed class SequenceInputSlots<T> : InputSlots<T>
        where T : unmanaged
    {
        private readonly SequenceFiller<T> _fill;

        public SequenceInputSlots(OnnxColumnBinding binding, SequenceFiller<T> fill, int capacity)
            : base(binding, capacity)
        {
            if (binding.Tensor.RowDims.Length != 1 || binding.Tensor.DynamicRowAxes != 1)
            {
                throw new ArgumentException($"A sequence input is [batch, sequence]; '{binding.Tensor.Name}' is {binding.Tensor.ShapeText}.", nameof(binding));
            }

            _fill = fill;
        }

        public override void Fill(int slot, long position, int row, int sequenceLength, string modelName)
        {
            if (sequenceLength < 1)
            {
                throw new InvalidOperationException($"The sequence input '{Binding.Tensor.Name}' needs a SequenceLength of at least 1, got {sequenceLength}.");
            }

            int offset = Offsets[slot];
            Reserve(offset + sequenceLength);
            _fill(Data.AsSpan(offset, sequenceLength), row);
            Offsets[slot + 1] = offset + sequenceLength;
        }
    }

    private sealed class ColumnInputSlots<T> : InputSlots<T>
        where T : unmanaged
    {
        private readonly ValueGetter<VBuffer<T>>? _vectorGetter;
        private readonly ValueGetter<T>? _scalarGetter;
        private VBuffer<T> _value;

        public ColumnInputSlots(OnnxColumnBinding binding, DataViewRow source, int capacity)
            : base(binding, capacity)
        {
            var column = source.Schema[binding.ColumnName];
            if (column.Type is VectorDataViewType)
            {
                _vectorGetter = source.GetGetter<VBuffer<T>>(column);
            }
            else
            {
                _scalarGetter = source.GetGetter<T>(column);
            }
        }

        public override void Fill(int slot, long position, int row, int sequenceLength, string modelName)
        {
            int offset = Offsets[slot];
            if (_scalarGetter != null)
            {
                CheckLength(1, position, modelName);
                Reserve(offset + 1);
                _scalarGetter(ref Data[offset]);
                Offsets[slot + 1] = offset + 1;
                return;
            }

            _vectorGetter!(ref _value);
            int length = _value.Length;
            CheckLength(length, position, modelName);
            Reserve(offset + length);
            _value.CopyTo(Data.AsSpan(offset, length));
            Offsets[slot + 1] = offset + length;
        }
    }
}
