using System.Linq;
using System.Reflection;
using MlNotes.Tests.Shared;
using Xunit;

namespace MlNotes.Serving.Tests;

/// <summary>
/// The public API of MlNotes.Serving against the committed PublicApi.Serving.txt (as the other assemblies do): changing the
/// surface means editing that file on purpose. On a mismatch the actual listing is written beside the test binaries.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly Assembly s_assembly = typeof(PredictionPoolOptions).Assembly;

    [Fact]
    public void Public_api_matches_the_committed_listing()
    {
        PublicApiSnapshot.AssertMatchesCommittedListing(s_assembly, "Serving", "MlNotes.Serving.Tests");
    }

    [Fact]
    public void Public_classes_are_sealed_or_static()
    {
        var types = s_assembly.GetExportedTypes();
        Assert.All(types.Where(t => t.IsClass), t => Assert.True(t.IsSealed, $"{t.FullName} is not sealed"));
    }
}
