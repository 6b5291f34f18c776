using System;
using System.IO;
using System.Linq;
using System.Reflection;
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
        var assembly = typeof(MlNotes.Transforms.Onnx.OnnxScoringTransformer).Assembly;
        string actual = Describe(assembly);
        string expectedPath = Path.Combine(AppContext.BaseDirectory, "PublicApi.Transforms.txt");
        string expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath).ReplaceLineEndings("\n") : "";

        if (actual != expected)
        {
            string received = Path.Combine(AppContext.BaseDirectory, "PublicApi.Transforms.received.txt");
            File.WriteAllText(received, actual);
            Assert.Fail($"The public API changed. If that is intended, copy {received} over tests/MlNotes.Transforms.Tests/PublicApi.Transforms.txt.");
        }
    }

    [Fact]
    public void PublicTypes_AreSealedOrStatic_AndCatalogsLiveInMicrosoftMl()
    {
        var types = typeof(MlNotes.Transforms.Onnx.OnnxScoringTransformer).Assembly.GetExportedTypes();

        // Static classes are sealed too; an abstract base shared by a family's transformers is the one exception.
        Assert.All(types.Where(t => t.IsClass), t => Assert.True(t.IsSealed || t.IsAbstract, $"{t.FullName} is neither sealed nor abstract"));
        Assert.All(types.Where(t => t.Name.EndsWith("Catalog", StringComparison.Ordinal)), t => Assert.Equal("Microsoft.ML", t.Namespace));
    }

    private static string Describe(Assembly assembly)
    {
        var lines = assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal).SelectMany(type =>
        {
            const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(Flags)
                .Where(m => m is not MethodInfo { IsSpecialName: true })
                .Select(m => "  " + m.MemberType + " " + m)
                .OrderBy(s => s, StringComparer.Ordinal);
            return new[] { $"{(type.IsEnum ? "enum" : type.IsInterface ? "interface" : "class")} {type.FullName}" }.Concat(members);
        });
        return string.Join("\n", lines) + "\n";
    }
}
