using System;
using System.Diagnostics.Metrics;
using System.Linq;
using Microsoft.Extensions.Hosting;
using Microsoft.ML;
using MlNotes.Serving;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers MlNotes prediction pools with an ASP.NET Core (or any generic-host) app.</summary>
public static class MlNotesServingServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="PredictionPool{TInput, TOutput}"/> named <paramref name="modelName"/> as a keyed singleton
    /// (inject it with <c>[FromKeyedServices("name")]</c>, or <c>GetRequiredKeyedService</c>). The model loads from
    /// <see cref="PredictionPoolOptions.ModelPath"/> when the host starts; with <see cref="PredictionPoolOptions.WatchForChanges"/>
    /// it reloads when the file changes, without dropping calls; at shutdown the container disposes the pool after the server
    /// has finished its requests, and disposing scores every call still waiting. Metrics go through the app's
    /// <see cref="IMeterFactory"/> (meter <c>MlNotes.Serving</c>); an <see cref="MLContext"/> registered in the container is used, else a new one.
    /// </summary>
    /// <typeparam name="TInput">The input row class.</typeparam>
    /// <typeparam name="TOutput">The output row class.</typeparam>
    /// <param name="services">The app's services.</param>
    /// <param name="modelName">The pool's name: its service key and the <c>mlnotes.model</c> tag of its metrics.</param>
    /// <param name="options">The model file and the batching limits; copied and validated here.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or <see cref="PredictionPoolOptions.ModelPath"/> is unset.</exception>
    /// <exception cref="ArgumentException">A pool of these types is already registered under <paramref name="modelName"/>.</exception>
    public static IServiceCollection AddMlNotesPredictionPool<TInput, TOutput>(this IServiceCollection services, string modelName, PredictionPoolOptions options)
        where TInput : class
        where TOutput : class, new()
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelName);
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Validated(hasModel: false);
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(PredictionPool<TInput, TOutput>) && Equals(d.ServiceKey, modelName)))
        {
            throw new ArgumentException($"A prediction pool of {typeof(TInput).Name} -> {typeof(TOutput).Name} named '{modelName}' is already registered.", nameof(modelName));
        }

        services.AddKeyedSingleton(modelName, (sp, _) => new PredictionPool<TInput, TOutput>(
            sp.GetService<MLContext>() ?? new MLContext(), null, copy, modelName, sp.GetService<IMeterFactory>()));
        services.AddSingleton<IHostedService>(sp => new PoolWarmup<TInput, TOutput>(sp, modelName));
        return services;
    }
}
