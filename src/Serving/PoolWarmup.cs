using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MlNotes.Serving;

/// <summary>
/// Builds a registered pool when the host starts, so the model loads (and a bad model file fails) at startup, not at the first
/// request. Stopping does nothing: the container disposes the pool after the server has finished its requests, and disposing
/// drains the queue.
/// </summary>
internal sealed class PoolWarmup<TInput, TOutput>(System.IServiceProvider services, string modelName) : IHostedService
    where TInput : class
    where TOutput : class, new()
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredKeyedService<PredictionPool<TInput, TOutput>>(modelName);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
