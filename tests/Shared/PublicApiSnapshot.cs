using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace MlNotes.Tests.Shared;

/// <summary>
/// An assembly's public API, type by type and member by member, against its committed listing (tests/&lt;project&gt;/PublicApi.&lt;name&gt;.txt,
/// copied beside the test binaries): a change to the surface must be a deliberate edit of that file. On a mismatch the actual
/// listing is written beside the test binaries. Linked into every test project that guards an assembly.
/// </summary>
internal static class PublicApiSnapshot
{
    public static void AssertMatchesCommittedListing(Assembly assembly, string name, string testProject)
    {
        string actual = Describe(assembly);
        string expectedPath = Path.Combine(AppContext.BaseDirectory, $"PublicApi.{name}.txt");
        string expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath).ReplaceLineEndings("\n") : "";
        if (actual != expected)
        {
            string received = Path.Combine(AppContext.BaseDirectory, $"PublicApi.{name}.received.txt");
            File.WriteAllText(received, actual);
            Assert.Fail($"The public API changed. If that is intended, copy {received} over tests/{testProject}/PublicApi.{name}.txt.");
        }
    }

    public static string Describe(Assembly assembly)
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
