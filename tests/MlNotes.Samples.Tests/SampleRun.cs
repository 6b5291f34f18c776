using System;
using System.IO;

namespace MlNotes.Samples.Tests;

/// <summary>A quick-mode sample context writing to a temporary folder, deleted on dispose.</summary>
internal sealed class SampleRun : IDisposable
{
    public SampleRun()
    {
        string output = Path.Combine(Path.GetTempPath(), "mlnotes-samples-" + Guid.NewGuid().ToString("N"));
        Context = new SampleContext(SampleContext.FindRepositoryRoot(AppContext.BaseDirectory), output, quick: true, log: _ => { });
    }

    public SampleContext Context { get; }

    public void Dispose() => Directory.Delete(Context.OutputFolder, recursive: true);
}
