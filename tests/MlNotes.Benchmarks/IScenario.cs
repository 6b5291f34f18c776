namespace MlNotes.Benchmarks;

/// <summary>
/// One side-by-side benchmark, run as <c>dotnet run -c Release --project tests/MlNotes.Benchmarks -- NAME</c>.
/// Each prints a table and ends with one <c>RESULT NAME key=value ...</c> line. Scenarios are found by reflection,
/// so adding one is adding a file.
/// </summary>
internal interface IScenario
{
    string Name { get; }

    string Description { get; }

    int Run(string[] args);
}
