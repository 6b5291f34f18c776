using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// The rows of one batch, packed into one tensor per graph input, and the outputs of scoring them.
/// Each cursor owns one; its buffers are reused from batch to batch. Rows whose dynamic axes differ
/// are scored in separate runs of consecutive equal-shaped rows, so a graph never sees padding it did not ask for.
/// </summary>
internal sealed class OnnxBatch : IDisposable
{
    private readonly OnnxScoringTransformer _parent;
    private readonly InputSlots[] _inputs;
    private readonly OutputSlots?[] _outputs;
    private readonly string[] _inputNames;
    private readonly string[] _runOutputNames;
    private readonly OutputSlots[] _runOutputs;
    private readonly bool _bindOutputs;
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly long[] _positions;
    private readonly RunOptions _runOptions = new();

    /// <param name="parent">The transformer whose session scores.</param>
    /// <param name="source">The row the input columns are read from.</param>
    /// <param name="activeOutputs">Per bound output: is it needed.</param>
    /// <param name="capacity">Rows per batch.</param>
    public OnnxBatch(OnnxScoringTransformer parent, DataViewRow source, bool[] activeOutputs, int capacity)
    {
        _parent = parent;
        Capacity = capacity;
        _positions = new long[capacity];
        var inputs = parent.Inputs;
        _inputs = new InputSlots[inputs.Count];
        _inputNames = new string[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            _inputs[i] = InputSlots.Create(inputs[i], source, capacity);
            _inputNames[i] = inputs[i].Tensor.Name;
        }

        var outputs = parent.Outputs;
        _outputs = new OutputSlots?[outputs.Count];
        var runNames = new List<string>();
        var runOutputs = new List<OutputSlots>();
        for (int i = 0; i < outputs.Count; i++)
        {
            if (activeOutputs[i])
            {
                var slots = OutputSlots.Create(outputs[i], capacity);
                _outputs[i] = slots;
                runNames.Add(outputs[i].Tensor.Name);
                runOutputs.Add(slots);
            }
        }

        _runOutputNames = runNames.ToArray();
        _runOutputs = runOutputs.ToArray();
        // Where every requested output has a known row size, ONNX Runtime writes straight into our buffers.
        _bindOutputs = Array.TrueForAll(_runOutputs, o => o.Binding.Tensor.RowElements > 0);
        _inputValues = new OrtValue[_inputs.Length];
        _outputValues = new OrtValue[_runOutputs.Length];
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    public bool HasOutputs => _runOutputs.Length > 0;

    public void Clear()
    {
        Count = 0;
        foreach (var input in _inputs)
        {
            input.Clear();
        }
    }

    /// <summary>Copies the source row's input columns into the next slot.</summary>
    public void Add(long position)
    {
        int slot = Count;
        foreach (var input in _inputs)
        {
            input.Fill(slot, position, _parent.ModelName);
        }

        _positions[slot] = position;
        Count = slot + 1;
    }

    /// <summary>Scores the rows added since <see cref="Clear"/>.</summary>
    public void Run()
    {
        if (_runOutputs.Length == 0 || Count == 0)
        {
            return;
        }

        foreach (var output in _runOutputs)
        {
            output.Clear();
        }

        int start = 0;
        while (start < Count)
        {
            int end = start + 1;
            while (end < Count && SameShape(start, end))
            {
                end++;
            }

            RunRange(start, end - start);
            start = end;
        }
    }

    /// <summary>A getter for a bound output, reading the slot <paramref name="slot"/> returns.</summary>
    public Delegate GetOutputGetter(int outputIndex, Func<int> slot)
        => (_outputs[outputIndex] ?? throw new InvalidOperationException($"Output column '{_parent.Outputs[outputIndex].ColumnName}' is not active.")).MakeGetter(slot);

    public void Dispose() => _runOptions.Dispose();

    private bool SameShape(int a, int b)
    {
        foreach (var input in _inputs)
        {
            if (input.Binding.Tensor.DynamicRowAxes > 0 && input.RowLength(a) != input.RowLength(b))
            {
                return false;
            }
        }

        return true;
    }

    private void RunRange(int first, int count)
    {
        try
        {
            for (int i = 0; i < _inputs.Length; i++)
            {
                _inputValues[i] = _inputs[i].CreateTensor(first, count);
            }

            if (_bindOutputs)
            {
                for (int i = 0; i < _runOutputs.Length; i++)
                {
                    _outputValues[i] = _runOutputs[i].CreateBoundTensor(first, count);
                }

                _parent.Session.Run(_runOptions, _inputNames, _inputValues, _runOutputNames, _outputValues);
                _parent.CountRun();
                for (int i = 0; i < _runOutputs.Length; i++)
                {
                    _runOutputs[i].CommitBound(first, count);
                }
            }
            else
            {
                using var results = _parent.Session.Run(_runOptions, _inputNames, _inputValues, _runOutputNames);
                _parent.CountRun();
                for (int i = 0; i < _runOutputs.Length; i++)
                {
                    _runOutputs[i].CopyFrom(results[i], first, count, _parent.ModelName);
                }
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException(
                $"ONNX Runtime failed while scoring the rows at positions {_positions[first]} to {_positions[first + count - 1]} " +
                $"(a run of {count} rows) with model {_parent.ModelName}: {e.Message}", e);
        }
        finally
        {
            DisposeAll(_inputValues);
            DisposeAll(_outputValues);
        }
    }

    private static void DisposeAll(OrtValue[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i]?.Dispose();
            values[i] = null!;
        }
    }

    /// <summary>One input column's rows, back to back in one pinned buffer.</summary>
    private abstract class InputSlots
    {
        protected InputSlots(OnnxColumnBinding binding, int capacity)
        {
            Binding = binding;
            Offsets = new int[capacity + 1];
            Shape = new long[binding.Tensor.GraphDims.Length];
        }

        public OnnxColumnBinding Binding { get; }

        protected int[] Offsets { get; }

        protected long[] Shape { get; }

        public static InputSlots Create(OnnxColumnBinding binding, DataViewRow source, int capacity)
        {
            var type = typeof(InputSlots<>).MakeGenericType(binding.Tensor.ClrType);
            return (InputSlots)Activator.CreateInstance(type, binding, source, capacity)!;
        }

        public void Clear() => Offsets[0] = 0;

        public int RowLength(int slot) => Offsets[slot + 1] - Offsets[slot];

        public abstract void Fill(int slot, long position, string modelName);

        public abstract OrtValue CreateTensor(int first, int count);

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

    private sealed class InputSlots<T> : InputSlots
        where T : unmanaged
    {
        private readonly ValueGetter<VBuffer<T>>? _vectorGetter;
        private readonly ValueGetter<T>? _scalarGetter;
        private T[] _data;
        private VBuffer<T> _value;

        public InputSlots(OnnxColumnBinding binding, DataViewRow source, int capacity)
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

            int perRow = binding.Tensor.RowElements > 0 ? binding.Tensor.RowElements : 16;
            _data = GC.AllocateUninitializedArray<T>(Math.Max(1, capacity * perRow), pinned: true);
        }

        public override void Fill(int slot, long position, string modelName)
        {
            int offset = Offsets[slot];
            if (_scalarGetter != null)
            {
                CheckLength(1, position, modelName);
                Reserve(offset + 1);
                _scalarGetter(ref _data[offset]);
                Offsets[slot + 1] = offset + 1;
                return;
            }

            _vectorGetter!(ref _value);
            int length = _value.Length;
            CheckLength(length, position, modelName);
            Reserve(offset + length);
            _value.CopyTo(_data.AsSpan(offset, length));
            Offsets[slot + 1] = offset + length;
        }

        public override OrtValue CreateTensor(int first, int count)
        {
            SetShape(first, count);
            int start = Offsets[first];
            int length = Offsets[first + count] - start;
            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(_data, start, length), Shape);
        }

        private void Reserve(int size)
        {
            if (size > _data.Length)
            {
                var larger = GC.AllocateUninitializedArray<T>(Math.Max(size, _data.Length * 2), pinned: true);
                _data.AsSpan().CopyTo(larger);
                _data = larger;
            }
        }
    }

    /// <summary>One output tensor's rows, back to back in one pinned buffer.</summary>
    private abstract class OutputSlots
    {
        protected OutputSlots(OnnxColumnBinding binding, int capacity)
        {
            Binding = binding;
            Offsets = new int[capacity + 1];
            Shape = new long[binding.Tensor.GraphDims.Length];
        }

        public OnnxColumnBinding Binding { get; }

        protected int[] Offsets { get; }

        protected long[] Shape { get; }

        public static OutputSlots Create(OnnxColumnBinding binding, int capacity)
        {
            var type = typeof(OutputSlots<>).MakeGenericType(binding.Tensor.ClrType);
            return (OutputSlots)Activator.CreateInstance(type, binding, capacity)!;
        }

        public void Clear() => Offsets[0] = 0;

        public abstract OrtValue CreateBoundTensor(int first, int count);

        public void CommitBound(int first, int count)
        {
            int rowElements = Binding.Tensor.RowElements;
            for (int i = 0; i < count; i++)
            {
                Offsets[first + i + 1] = Offsets[first + i] + rowElements;
            }
        }

        public abstract void CopyFrom(OrtValue value, int first, int count, string modelName);

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

        public override OrtValue CreateBoundTensor(int first, int count)
        {
            var tensor = Binding.Tensor;
            Shape[0] = count;
            for (int d = 0; d < tensor.RowDims.Length; d++)
            {
                Shape[d + 1] = tensor.RowDims[d];
            }

            int start = Offsets[first];
            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(_data, start, count * tensor.RowElements), Shape);
        }

        public override void CopyFrom(OrtValue value, int first, int count, string modelName)
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
            int start = Offsets[first];
            int end = start + values.Length;
            if (end > _data.Length)
            {
                var larger = GC.AllocateUninitializedArray<T>(Math.Max(end, _data.Length * 2), pinned: true);
                _data.AsSpan(0, start).CopyTo(larger);
                _data = larger;
            }

            values.CopyTo(_data.AsSpan(start));
            for (int i = 0; i < count; i++)
            {
                Offsets[first + i + 1] = Offsets[first + i] + rowLength;
            }
        }

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
