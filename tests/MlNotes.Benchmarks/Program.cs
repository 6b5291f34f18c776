using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace MlNotes.Benchmarks;

internal static class Program
{
    private static int Main(string[] args)
    {
        var scenarios = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IScenario).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IScenario)Activator.CreateInstance(t)!)
            .OrderBy(s => s.Name)
            .ToArray();
        if (args.Length > 0 && args[0] == "bdn")
        {
            // The BenchmarkDotNet micro-benchmarks: dotnet run -c Release --project tests/MlNotes.Benchmarks -- bdn --filter '*'
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Skip(1).ToArray());
            return 0;
        }

        var scenario = args.Length > 0 ? scenarios.FirstOrDefault(s => s.Name == args[0]) : null;
        if (scenario == null)
        {
            Console.Error.WriteLine("usage: dotnet run -c Release --project tests/MlNotes.Benchmarks -- <scenario> [options]");
            foreach (var s in scenarios)
            {
                Console.Error.WriteLine($"  {s.Name,-10} {s.Description}");
            }

            Console.Error.WriteLine("  bdn        BenchmarkDotNet micro-benchmarks (-- bdn --filter '*')");
            return 2;
        }

        return scenario.Run(args.Skip(1).ToArray());
    }
}
