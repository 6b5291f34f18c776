// The tests compile against publicized ML.NET, as MlNotes does (build/MlNetInternals.targets), for the few internals
// ML.NET's own tests use too (SchemaShape.Create). The attribute type comes from MlNotes.Transforms (InternalsVisibleTo).
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
