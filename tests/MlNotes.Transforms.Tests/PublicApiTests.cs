using System;
using System.Linq;
using MlNotes.Tests.Shared;
using Xunit;

namespace MlNotes.Transforms.Tests;

/// <summary>
/// The public API of MlNotes.Transforms, member by member, against the committed PublicApi.Transforms.txt: a change to the
/// surface must be a deliberate edit of that file. On a mismatch the actual listing is written beside the test binaries.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheCommittedListing()
    {
        PublicApiSnapshot.AssertMatchesCommittedListing(typeof(MlNotes.Transforms.Onnx.OnnxScoringTransformer).Assembly, "Transforms", "MlNotes.Transforms.Tests");
    }

    [Fact]
    public void PublicTypes_AreSealedOrStatic_AndCatalogsLiveInMicrosoftMl()
    {
        var types = typeof(MlNotes.Transforms.Onnx.OnnxScoringTransformer).Assembly.GetExportedTypes();

        // Static classes are sealed too; an abstract base shared by a family's transformers is the one exception.
        Assert.All(types.Where(t => t.IsClass), t => Assert.True(t.IsSealed || t.IsAbstract, $"{t.FullName} is neither sealed nor abstract"));
        Assert.All(types.Where(t => t.Name.EndsWith("Catalog", StringComparison.Ordinal)), t => Assert.Equal("Microsoft.ML", t.Namespace));
    }
}
