using System;
using System.Collections.Generic;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

internal sealed partial class OnnxBatch
{
    /// <summary>One graph tensor's rows in a batch, back to back in one buffer: row i spans [Offsets[i], Offsets[i + 1]).</summary>
    internal abstract class TensorSlots
    {
        protected TensorSlots(OnnxColumnBinding binding, int capacity)
        {
            Binding = binding;
            Offsets = new int[capacity + 1];
            Shape = new long[binding.Tensor.GraphDims.Length];
        }

        public OnnxColumnBinding Binding { get; }

        protected int[] Offsets { get; }

        protected long[] Shape { get; }

        public void Clear() => Offsets[0] = 0;

        public int RowLength(int slot) => Offsets[slot + 1] - Offsets[slot];
    }

    /// <summary>
    /// Runs of one session over whole tensors the caller owns, for graphs whose inputs are not rows of a batch (a decoder's step:
    /// its past keys and values are [past, batch, heads, head_dim]). Every input and output is an <see cref="OrtValue"/> over a
    /// slice of the caller's array, so ONNX Runtime reads and writes the caller's buffers in place (a KV cache grows inside one
    /// preallocated array); the names are fixed once, the shapes are given per run. One per cursor; holds a lease on the session.
    /// </summary>
    internal sealed class TensorRun : IDisposable
    {
        private readonly OnnxModel _model;
        private readonly string[] _inputNames;
        private readonly string[] _outputNames;
        private readonly OrtValue[] _inputs;
        private readonly OrtValue[] _outputs;
        private readonly RunOptions _runOptions = new();
        private readonly OnnxModel.SessionLease _lease;

        public TensorRun(OnnxModel model, IReadOnlyList<string> inputNames, IReadOnlyList<string> outputNames)
        {
            _model = model;
            _inputNames = [.. inputNames];
            _outputNames = [.. outputNames];
            _inputs = new OrtValue[_inputNames.Length];
            _outputs = new OrtValue[_outputNames.Length];
            _lease = model.Lease();
        }

        /// <summary>Sets input <paramref name="index"/> to the values of <paramref name="data"/> from <paramref name="start"/>, shaped <paramref name="shape"/>.</summary>
        public void Input<T>(int index, T[] data, int start, long[] shape)
            where T : unmanaged
            => _inputs[index] = Create(data, start, shape);

        /// <summary>Binds output <paramref name="index"/> to the values of <paramref name="data"/> from <paramref name="start"/>, shaped <paramref name="shape"/>.</summary>
        public void Output<T>(int index, T[] data, int start, long[] shape)
            where T : unmanaged
            => _outputs[index] = Create(data, start, shape);

        /// <summary>Runs the graph on the inputs and outputs set since the last run; <paramref name="what"/> names the rows in an error.</summary>
        public void Run(string what)
        {
            try
            {
                _lease.Session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
                _model.CountRun();
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidOperationException($"ONNX Runtime failed while generating {what} with model {_model.Name}: {e.Message}", e);
            }
            finally
            {
                DisposeAll(_inputs);
                DisposeAll(_outputs);
            }
        }

        public void Dispose()
        {
            DisposeAll(_inputs);
            DisposeAll(_outputs);
            _runOptions.Dispose();
            _lease.Dispose();
        }

        private static OrtValue Create<T>(T[] data, int start, long[] shape)
            where T : unmanaged
        {
            long length = 1;
            foreach (long d in shape)
            {
                length *= d;
            }

            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(data, start, checked((int)length)), shape);
        }
    }
}
