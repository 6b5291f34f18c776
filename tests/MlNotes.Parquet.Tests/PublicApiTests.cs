using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
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
        string actual = Describe(s_assembly);
        string expectedPath = Path.Combine(AppContext.BaseDirectory, "PublicApi.Parquet.txt");
        string expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath).ReplaceLineEndings("\n") : "";
        if (actual != expected)
        {
            string received = Path.Combine(AppContext.BaseDirectory, "PublicApi.Parquet.received.txt");
            File.WriteAllText(received, actual);
            Assert.Fail($"The public API changed. If that is intended, copy {received} over tests/MlNotes.Parquet.Tests/PublicApi.Parquet.txt.");
        }
    }

    [Fact]
    public void Public_classes_are_sealed_or_static_and_catalogs_live_in_Microsoft_ML()
    {
        var types = s_assembly.GetExportedTypes();
        Assert.All(types.Where(t => t.IsClass), t => Assert.True(t.IsSealed, $"{t.FullName} is not sealed"));
        Assert.All(types.Where(t => t.Name.EndsWith("Catalog", StringComparison.Ordinal)), t => Assert.Equal("Microsoft.ML", t.Namespace));
    }

    private static string Describe(Assembly assembly)
    {
        const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var lines = assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal).SelectMany(type =>
            new[] { $"{(type.IsEnum ? "enum" : type.IsInterface ? "interface" : "class")} {type.FullName}" }.Concat(type.GetMembers(Flags)
                .Where(m => m is not MethodInfo { IsSpecialName: true })
                .Select(m => $"  {m.MemberType} {m}")
                .OrderBy(s => s, StringComparer.Ordinal)));
        return string.Join("\n", lines) + "\n";
    }
}
