using System;

namespace MlNotes.Serving;

/// <summary>
/// Thrown by <see cref="PredictionPool{TInput, TOutput}.PredictAsync"/> and <see cref="PredictionPool{TInput, TOutput}.Predict"/>
/// when <see cref="PredictionPoolOptions.MaxQueueLength"/> calls are already waiting: the call fails at once instead of
/// queueing without bound. A web app maps it to 503 Service Unavailable (the MlNotes.Serving sample does).
/// </summary>
public sealed class PredictionQueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public PredictionQueueFullException()
        : base("The prediction pool's queue is full.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">What is full and what to do.</param>
    public PredictionQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    /// <param name="message">What is full and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public PredictionQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
