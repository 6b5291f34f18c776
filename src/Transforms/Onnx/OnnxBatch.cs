using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// The rows of one batch, packed into one tensor per graph input, and the outputs of scoring them.
/// Each cursor owns one; its buffers are reused from batch to batch. Rows whose dynamic axes differ
/// are scored in separate runs of consecutive equal-shaped rows, so a graph never sees padding it did not ask for.
/// </summary>
internal sealed partial class OnnxBatch : IBatch
{
    private readonly OnnxModel _model;
    private readonly IReadOnlyList<OnnxColumnBinding> _bindings;
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
    private readonly OnnxModel.SessionLease _lease;
    private readonly int _fixedBatch;

    /// <summary>The active flags of a run whose one output is needed.</summary>
    public static readonly bool[] OneActive = { true };

    /// <summary>The active flags of a run whose two outputs are needed.</summary>
    public static readonly bool[] TwoActive = { true, true };

    /// <param name="model">The model whose session scores.</param>
    /// <param name="inputs">One per graph input: from a column (<see cref="FromColumn"/>) or computed (<see cref="Computed{T}(OnnxColumnBinding, RowFiller{T}, int)"/>).</param>
    /// <param name="outputs">The graph outputs the batch can compute.</param>
    /// <param name="activeOutputs">Per output: is it needed.</param>
    /// <param name="capacity">Rows per batch.</param>
    public OnnxBatch(OnnxModel model, IReadOnlyList<InputSlots> inputs, IReadOnlyList<OnnxColumnBinding> outputs, bool[] activeOutputs, int capacity)
    {
        _model = model;
        _bindings = outputs;
        Capacity = capacity;
        _positions = new long[capacity];
        _inputs = new InputSlots[inputs.Count];
        _inputNames = new string[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            _inputs[i] = inputs[i];
            _inputNames[i] = inputs[i].Binding.Tensor.Name;
        }

        // A graph that fixes its batch axis runs exactly that many rows, the last run padded with zero rows.
        _fixedBatch = 0;
        foreach (var input in inputs)
        {
            _fixedBatch = Math.Max(_fixedBatch, input.Binding.Tensor.FixedBatch);
        }

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
        // Last: nothing after it may throw, or the reference would never be released.
        _lease = model.Lease();
    }

    /// <summary>Fills a computed input's row (its fixed length) for the source row at <paramref name="position"/>.</summary>
    public delegate void RowFiller<T>(Span<T> destination, long position);

    /// <summary>Fills a computed input's row (its fixed length) for the source row at <paramref name="position"/>, the caller's row <paramref name="row"/> (as given to <see cref="Add(long, int)"/>).</summary>
    public delegate void RowSlotFiller<T>(Span<T> destination, long position, int row);

    /// <summary>Fills a sequence input's row (<see cref="SequenceLength"/> values) for the caller's row <paramref name="row"/> (as given to <see cref="Add(long, int)"/>).</summary>
    public delegate void SequenceFiller<T>(Span<T> destination, int row);

    public int Capacity { get; }

    public int Count { get; private set; }

    /// <summary>
    /// The length of this batch's sequences (0: none): each <see cref="Sequence{T}"/> input's rows have it, and an output with one
    /// dynamic axis besides the batch takes it there, so ONNX Runtime writes that output straight into the batch's buffer too.
    /// </summary>
    public int SequenceLength { get; set; }

    /// <summary>A graph input read from the column the binding names.</summary>
    public static InputSlots FromColumn(OnnxColumnBinding binding, DataViewRow source, int capacity)
    {
        var type = typeof(ColumnInputSlots<>).MakeGenericType(binding.Tensor.ClrType);
        return (InputSlots)Activator.CreateInstance(type, binding, source, capacity)!;
    }

    /// <summary>A graph input of known row size whose rows <paramref name="fill"/> computes (preprocessed images, say).</summary>
    public static InputSlots Computed<T>(OnnxColumnBinding binding, RowFiller<T> fill, int capacity)
        where T : unmanaged
        => new ComputedInputSlots<T>(binding, (destination, position, _) => fill(destination, position), capacity);

    /// <summary>A graph input of known row size whose rows <paramref name="fill"/> computes, told the caller's row of <see cref="Add(long, int)"/>.</summary>
    public static InputSlots Computed<T>(OnnxColumnBinding binding, RowSlotFiller<T> fill, int capacity)
        where T : unmanaged
        => new ComputedInputSlots<T>(binding, fill, capacity);

    /// <summary>A graph input [batch, sequence] whose rows <paramref name="fill"/> computes at <see cref="SequenceLength"/> (token ids, masks).</summary>
    public static InputSlots Sequence<T>(OnnxColumnBinding binding, SequenceFiller<T> fill, int capacity)
        where T : unmanaged
        => new SequenceInputSlots<T>(binding, fill, capacity);

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
    public void Add(long position) => Add(position, -1);

    /// <summary>Fills the next slot for the source row at <paramref name="position"/>; sequence and computed inputs are told the caller's <paramref name="row"/>.</summary>
    public void Add(long position, int row)
    {
        int slot = Count;
        foreach (var input in _inputs)
        {
            input.Fill(slot, position, row, SequenceLength, _model.Name);
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

            for (int first = start; first < end; first += _fixedBatch > 0 ? _fixedBatch : end)
            {
                RunRange(first, _fixedBatch > 0 ? Math.Min(_fixedBatch, end - first) : end - first);
            }

            start = end;
        }
    }

    /// <summary>A getter for a bound output, reading the slot <paramref name="slot"/> returns.</summary>
    public Delegate GetGetter(int outputIndex, Func<int> slot)
        => Active(outputIndex).MakeGetter(slot);

    /// <summary>The values of output <paramref name="outputIndex"/> for the row in <paramref name="slot"/>.</summary>
    public ReadOnlySpan<T> OutputRow<T>(int outputIndex, int slot)
        where T : unmanaged
        => ((OutputSlots<T>)Active(outputIndex)).Row(slot);

    public void Dispose()
    {
        _runOptions.Dispose();
        _lease.Dispose();
    }

    private OutputSlots Active(int outputIndex)
        => _outputs[outputIndex] ?? throw new InvalidOperationException($"Output column '{_bindings[outputIndex].ColumnName}' is not active.");

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
        int rows = Math.Max(count, _fixedBatch);
        try
        {
            for (int i = 0; i < _inputs.Length; i++)
            {
                _inputValues[i] = _inputs[i].CreateTensor(first, count, rows);
            }

            int sequence = SequenceLength;
            if (_bindOutputs || (sequence > 0 && Array.TrueForAll(_runOutputs, o => o.Binding.Tensor.RowElements > 0 || o.Binding.Tensor.DynamicRowAxes == 1)))
            {
                for (int i = 0; i < _runOutputs.Length; i++)
                {
                    _outputValues[i] = _runOutputs[i].CreateBoundTensor(first, rows, sequence);
                }

                _lease.Session.Run(_runOptions, _inputNames, _inputValues, _runOutputNames, _outputValues);
                _model.CountRun();
                for (int i = 0; i < _runOutputs.Length; i++)
                {
                    _runOutputs[i].CommitBound(first, count, sequence);
                }
            }
            else
            {
                using var results = _lease.Session.Run(_runOptions, _inputNames, _inputValues, _runOutputNames);
                _model.CountRun();
                for (int i = 0; i < _runOutputs.Length; i++)
                {
                    _runOutputs[i].CopyFrom(results[i], first, rows, count, _model.Name);
                }
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException(
                $"ONNX Runtime failed while scoring the rows at positions {_positions[first]} to {_positions[first + count - 1]} " +
                $"(a run of {count} rows) with model {_model.Name}: {e.Message}", e);
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
}
