using MlNotes.Serving.Sample;

// dotnet run -c Release --project samples/MlNotes.Serving [--urls http://127.0.0.1:5080]
ServingApp.Build(args).Run();

/// <summary>The entry point, public for WebApplicationFactory.</summary>
public partial class Program
{
}
