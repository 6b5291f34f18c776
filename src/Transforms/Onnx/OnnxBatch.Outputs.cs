using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

/// <summary>The graph outputs of a batch: bound to our buffers where their row size is known, else copied out.</summary>
internal sealed partial class OnnxBatch : IBatch
{
    /// <summary>One output tensor's rows, back to back in one pinned buffer.</summary>
    private abstract class OutputSlots : TensorSlots
    {
        protected OutputSlots(OnnxColumnBinding binding, int capacity)
            : base(binding, capacity)
        {
        }

        public static OutputSlots Create(OnnxColumnBinding binding, int capacity)
        {
            var type = typeof(OutputSlots<>).MakeGenericType(binding.Tensor.ClrType);
            return (OutputSlots)Activator.CreateInstance(type, binding, capacity)!;
        }

        public abstract OrtValue CreateBoundTensor(int first, int count, int sequence);

        public void CommitBound(int first, int count, int sequence)
        {
            int rowElements = BoundRowElements(sequence);
            for (int i = 0; i < count; i++)
            {
                Offsets[first + i + 1] = Offsets[first + i] + rowElements;
            }
        }

        /// <summary>Copies the first <paramref name="keep"/> rows of a run of <paramref name="count"/> (the rest are a fixed batch's padding).</summary>
        public abstract void CopyFrom(OrtValue value, int first, int count, int keep, string modelName);

        /// <summary>A row's elements when bound: the graph's fixed size, or the known dims times the sequence length at the one dynamic axis.</summary>
        protected int BoundRowElements(int sequence)
            => Binding.Tensor.RowElements > 0 ? Binding.Tensor.RowElements : Binding.Tensor.KnownRowElements * sequence;

        public abstract Delegate MakeGetter(Func<int> slot);
    }

    private sealed class OutputSlots<T> : OutputSlots
        where T : unmanaged
    {
        private T[] _data;

        public OutputSlots(OnnxColumnBinding binding, int capacity)
            : base(binding, capacity)
        {
            int perRow = binding.Tensor.RowElements > 0 ? binding.Tensor.RowElements : 16;
            _data = GC.AllocateUninitializedArray<T>(Math.Max(1, capacity * perRow), pinned: true);
        }

        public override OrtValue CreateBoundTensor(int first, int count, int sequence)
        {
            var tensor = Binding.Tensor;
            Shape[0] = count;
            for (int d = 0; d < tensor.RowDims.Length; d++)
            {
                Shape[d + 1] = tensor.RowDims[d] > 0 ? tensor.RowDims[d] : sequence;
            }

            int start = Offsets[first];
            int length = count * BoundRowElements(sequence);
            if (start + length > _data.Length)
            {
                var larger = GC.AllocateUninitializedArray<T>(Math.Max(start + length, _data.Length * 2), pinned: true);
                _data.AsSpan(0, start).CopyTo(larger);
                _data = larger;
            }

            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(_data, start, length), Shape);
        }

        public override void CopyFrom(OrtValue value, int first, int count, int keep, string modelName)
        {
            var values = value.GetTensorDataAsSpan<T>();
            var shape = value.GetTensorTypeAndShape().Shape;
            if (shape.Length == 0 || shape[0] != count || values.Length % count != 0)
            {
                throw new InvalidOperationException(
                    $"The ONNX output '{Binding.Tensor.Name}' of model {modelName} has shape [{string.Join(", ", shape)}] for a run of {count} rows: " +
                    "its first axis must be the batch.");
            }

            int rowLength = values.Length / count;
            values = values[..(keep * rowLength)];
            int start = Offsets[first];
            int end = start + values.Length;
            if (end > _data.Length)
            {
                var larger = GC.AllocateUninitializedArray<T>(Math.Max(end, _data.Length * 2), pinned: true);
                _data.AsSpan(0, start).CopyTo(larger);
                _data = larger;
            }

            values.CopyTo(_data.AsSpan(start));
            for (int i = 0; i < keep; i++)
            {
                Offsets[first + i + 1] = Offsets[first + i] + rowLength;
            }
        }

        public ReadOnlySpan<T> Row(int slot) => _data.AsSpan(Offsets[slot], Offsets[slot + 1] - Offsets[slot]);

        public override Delegate MakeGetter(Func<int> slot)
        {
            if (Binding.Tensor.RowDims.Length == 0)
            {
                return (ValueGetter<T>)((ref T dst) => dst = _data[Offsets[slot()]]);
            }

            return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
            {
                int s = slot();
                int start = Offsets[s];
                int length = Offsets[s + 1] - start;
                var editor = VBufferEditor.Create(ref dst, length);
                _data.AsSpan(start, length).CopyTo(editor.Values);
                dst = editor.Commit();
            });
        }
    }
}
