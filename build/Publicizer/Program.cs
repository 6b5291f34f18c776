using System;
using System.IO;
using Mono.Cecil;

namespace MlNotes.Build.Publicizer;

/// <summary>
/// Rewrites an assembly so that its internal types and members are public and its
/// <c>private protected</c> members are <c>protected</c>. The result is only compiled against:
/// at run time the real assembly loads, and <c>IgnoresAccessChecksTo</c> lets the caller through.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: Publicizer <input.dll> <output.dll>");
            return 2;
        }

        string input = Path.GetFullPath(args[0]);
        string output = Path.GetFullPath(args[1]);
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(input)!);
        var parameters = new ReaderParameters { AssemblyResolver = resolver, ReadingMode = ReadingMode.Immediate };

        int changed = 0;
        using (var assembly = AssemblyDefinition.ReadAssembly(input, parameters))
        {
            foreach (TypeDefinition type in assembly.MainModule.GetTypes())
            {
                changed += Open(type);
            }

            // Write to a temporary name first so a concurrent reader never sees half a file.
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            string temporary = output + "." + Environment.ProcessId + ".tmp";
            assembly.Write(temporary);
            File.Move(temporary, output, overwrite: true);
        }

        Console.WriteLine($"Publicizer: {Path.GetFileName(input)} -> {output} ({changed} items opened)");
        return 0;
    }

    private static int Open(TypeDefinition type)
    {
        int changed = 0;
        if (type.Name == "<Module>")
        {
            return 0;
        }

        if (type.IsNested)
        {
            if (!type.IsNestedPublic && !type.IsNestedPrivate)
            {
                type.IsNestedPublic = true;
                changed++;
            }
        }
        else if (!type.IsPublic)
        {
            type.IsPublic = true;
            changed++;
        }

        foreach (MethodDefinition method in type.Methods)
        {
            if (method.IsAssembly || method.IsFamilyOrAssembly)
            {
                method.IsPublic = true;
                changed++;
            }
            else if (method.IsFamilyAndAssembly)
            {
                method.IsFamily = true;
                changed++;
            }
        }

        foreach (FieldDefinition field in type.Fields)
        {
            if (field.IsAssembly || field.IsFamilyOrAssembly)
            {
                field.IsPublic = true;
                changed++;
            }
            else if (field.IsFamilyAndAssembly)
            {
                field.IsFamily = true;
                changed++;
            }
        }

        return changed;
    }
}
