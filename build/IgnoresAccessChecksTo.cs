// MlNotes compiles against publicized copies of these assemblies; MlNetInternals.targets (beside this file) compiles it into each src project;
// this attribute, recognised by CoreCLR by name, lets the calls through at run time.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
[module: System.Runtime.CompilerServices.SkipLocalsInit]

namespace System.Runtime.CompilerServices;

/// <summary>Read by CoreCLR: skip visibility checks from this assembly into the named one.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

    public string AssemblyName { get; }
}
