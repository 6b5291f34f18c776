using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>Where a scorer runs: providers, fallback, the loading context, and a load in another process.</summary>
public sealed class OnnxExecutionTests
{
    [NoCudaFact]
    public void UnavailableProvider_WithFallback_RunsOnTheCpu_AndSaysSo()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(4, seed: 1));
        using var cpu = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        using var fallback = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.Mlp,
            ExecutionProvider = OnnxExecutionProvider.Cuda,
            FallbackToCpu = true,
        }).Fit(data);

        Assert.Equal(OnnxExecutionProvider.Cpu, fallback.ExecutionProvider);
        Assert.Equal(Scores(cpu, data), Scores(fallback, data));
    }

    [NoCudaFact]
    public void LoadedModel_TakesItsDeviceFromTheLoadingContext()
    {
        using var folder = TestModels.TempFolder();
        string zip = SaveMlp(folder, out var data);

        var strict = new MLContext { GpuDeviceId = 0, FallbackToCpu = false };
        var e = Assert.Throws<System.Reflection.TargetInvocationException>(() => strict.Model.Load(zip, out _));
        var notSupported = Assert.IsType<NotSupportedException>(e.InnerException);
        Assert.Contains("'Cuda'", notSupported.Message);

        var lenient = new MLContext { GpuDeviceId = 0, FallbackToCpu = true };
        using var loaded = (OnnxScoringTransformer)lenient.Model.Load(zip, out _);
        Assert.Equal(OnnxExecutionProvider.Cpu, loaded.ExecutionProvider);
        // The fallback runs the same graph on the same provider as a plain CPU scorer: identical outputs, row for row.
        using var cpu = new MLContext(seed: 1).Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        var expected = Scores(cpu, data);
        Assert.Equal(4, expected.Length);
        Assert.Equal(expected, Scores(loaded, data));
    }

    [NoCudaFact]
    public void LoadWithExecutionProvider_OverridesTheContext()
    {
        using var folder = TestModels.TempFolder();
        string zip = SaveMlp(folder, out var data);
        var ml = new MLContext { GpuDeviceId = 0, FallbackToCpu = false };

        using var onCpu = (OnnxScoringTransformer)ml.Model.LoadWithExecutionProvider(zip, OnnxExecutionProvider.Cpu, 0, false, out _);
        var e = Assert.Throws<NotSupportedException>(() => ml.Model.LoadWithExecutionProvider(zip, OnnxExecutionProvider.DirectMl, 0, false, out _));

        Assert.Equal(OnnxExecutionProvider.Cpu, onCpu.ExecutionProvider);
        Assert.Contains("'DirectMl' (DmlExecutionProvider) is not available", e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.DirectML", e.Message);
    }

    [CudaFact]
    public void Cuda_GivesTheCpuOutputs_AndRunsOnCuda()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(300, seed: 1));
        using var cpu = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: 128).Fit(data);
        using var gpu = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.Mlp,
            BatchSize = 128,
            ExecutionProvider = OnnxExecutionProvider.Cuda,
        }).Fit(data);

        Assert.Equal(OnnxExecutionProvider.Cuda, gpu.ExecutionProvider);
        var expected = Scores(cpu, data);
        var actual = Scores(gpu, data);
        for (int i = 0; i < expected.Length; i++)
        {
            OnnxScoringTransformerTests.AssertClose(expected[i], actual[i], 1e-3f);
        }
    }

    [Fact]
    public void ASeparateProcess_LoadsTheZipAlone_AndGetsIdenticalOutputs()
    {
        using var folder = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var rows = ImageRow.Random(25, seed: 8);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.VitSmall, batchSize: 8).Fit(data);
        var expected = scorer.Transform(data).GetColumn<VBuffer<float>>("embedding").SelectMany(v => v.DenseValues()).ToArray();
        string zip = folder.File("model.zip");
        ml.Model.Save(scorer, data.Schema, zip);
        string inputs = folder.File("inputs.bin"), outputs = folder.File("outputs.bin");
        using (var writer = new BinaryWriter(File.Create(inputs)))
        {
            writer.Write(rows.Length);
            writer.Write(784);
            foreach (float v in rows.SelectMany(r => r.image))
            {
                writer.Write(v);
            }
        }

        // tests/MlNotes.Transforms.Tests/bin/<Configuration>/net10.0/ -> tests/MlNotes.LoadProcess/bin/<Configuration>/net10.0/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string loader = Path.Combine(output.Parent!.Parent!.Parent!.Parent!.FullName, "MlNotes.LoadProcess", "bin",
            output.Parent.Name, output.Name, "MlNotes.LoadProcess.dll");
        Assert.True(File.Exists(loader), $"the loader was not built: {loader}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { loader, zip, inputs, outputs, "embedding" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "the loader process did not finish");
        Assert.True(process.ExitCode == 0, $"loader failed ({process.ExitCode}): {stdout} {stderr}");

        var bytes = File.ReadAllBytes(outputs);
        var actual = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, actual, 0, bytes.Length);
        Assert.Equal(expected, actual);
    }

    private static string SaveMlp(TempFolder folder, out IDataView data)
    {
        var ml = new MLContext(seed: 1);
        data = ml.Data.LoadFromEnumerable(MlpRow.Random(4, seed: 1));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        string zip = folder.File("mlp.zip");
        ml.Model.Save(scorer, data.Schema, zip);
        return zip;
    }

    private static float[][] Scores(OnnxScoringTransformer scorer, IDataView data)
        => scorer.Transform(data).GetColumn<VBuffer<float>>("y").Select(v => v.DenseValues().ToArray()).ToArray();
}
