using System;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using MlNotes.Tests.Shared;
using Xunit;

namespace MlNotes.Parquet.Tests;

/// <summary>
/// The public API of MlNotes.Parquet against the committed PublicApi.Parquet.txt (as the other assemblies do): changing the surface
/// means editing that file on purpose. On a mismatch the actual listing is written beside the test binaries.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly Assembly s_assembly = typeof(MlNotesParquetCatalog).Assembly;

    [Fact]
    public void Public_api_matches_the_committed_listing()
    {
        PublicApiSnapshot.AssertMatchesCommittedListing(s_assembly, "Parquet", "MlNotes.Parquet.Tests");
    }

    [Fact]
    public void Public_classes_are_sealed_or_static_and_catalogs_live_in_Microsoft_ML()
    {
        var types = s_assembly.GetExportedTypes();
        Assert.All(types.Where(t => t.IsClass), t => Assert.True(t.IsSealed, $"{t.FullName} is not sealed"));
        Assert.All(types.Where(t => t.Name.EndsWith("Catalog", StringComparison.Ordinal)), t => Assert.Equal("Microsoft.ML", t.Namespace));
    }
}
