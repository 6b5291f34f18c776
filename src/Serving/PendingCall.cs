using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace MlNotes.Serving;

/// <summary>One call waiting in, or scored by, a <see cref="PredictionPool{TInput, TOutput}"/>: its row, arrival, queue node and cancellation.</summary>
internal sealed class PendingCall<TInput, TOutput> : TaskCompletionSource<TOutput>
{
    public PendingCall(TInput input)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Input = input;
        Arrived = Stopwatch.GetTimestamp();
    }

    public TInput Input { get; }

    public long Arrived { get; }

    public LinkedListNode<PendingCall<TInput, TOutput>>? Node { get; set; }

    public CancellationTokenRegistration Registration { get; set; }

    public void Complete(TOutput output)
    {
        Registration.Unregister();
        TrySetResult(output);
    }

    public void Fail(Exception e)
    {
        Registration.Unregister();
        TrySetException(e);
    }
}
