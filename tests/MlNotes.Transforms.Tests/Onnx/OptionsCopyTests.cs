using System;
using System.Linq;
using System.Reflection;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>
/// What an estimator keeps of its options (<see cref="OnnxModelOptions.Copy()"/>): every setting, every array its own copy, so a
/// caller who changes the options or their arrays afterwards does not change a built estimator.
/// </summary>
public sealed class OptionsCopyTests
{
    public static TheoryData<Type> OptionTypes()
    {
        var data = new TheoryData<Type>();
        foreach (var type in typeof(OnnxModelOptions).Assembly.GetExportedTypes()
            .Where(t => t.IsSubclassOf(typeof(OnnxModelOptions)) && !t.IsAbstract).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            data.Add(type);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OptionTypes))]
    public void Copy_KeepsEverySetting_AndOwnsEveryArray(Type type)
    {
        var options = (OnnxModelOptions)Activator.CreateInstance(type)!;
        var arrays = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.PropertyType.IsArray && p.CanWrite).ToArray();
        foreach (var property in arrays)
        {
            var array = Array.CreateInstance(property.PropertyType.GetElementType()!, 2);
            property.SetValue(options, array);
        }

        options.IntraOpNumThreads = 3;
        var copy = options.Copy();

        Assert.IsType(type, copy);
        Assert.Equal(3, copy.IntraOpNumThreads);
        Assert.Contains(arrays, p => p.Name == nameof(OnnxModelOptions.ModelBytes));
        foreach (var property in arrays)
        {
            var original = (Array)property.GetValue(options)!;
            var copied = (Array)property.GetValue(copy)!;
            Assert.NotSame(original, copied);
            Assert.Equal(original.Length, copied.Length);
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => !p.PropertyType.IsArray && p.CanRead))
        {
            Assert.Equal(property.GetValue(options), property.GetValue(copy));
        }
    }
}
