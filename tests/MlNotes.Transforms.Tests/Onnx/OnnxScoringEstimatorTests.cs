using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;
using Xunit;

namespace MlNotes.Transforms.Tests.Onnx;

/// <summary>Schema propagation and every validation rule of the batched ONNX scorer, with its exception and message.</summary>
public sealed class OnnxScoringEstimatorTests
{
    private sealed class WrongType
    {
        [VectorType(256)]
        public double[] x { get; set; } = new double[256];
    }

    private sealed class WrongLength
    {
        [VectorType(255)]
        public float[] x { get; set; } = new float[255];
    }

    private sealed class VariableLength
    {
        [VectorType]
        public float[] x { get; set; } = Array.Empty<float>();
    }

    private sealed class OtherColumn
    {
        [VectorType(256)]
        public float[] Features { get; set; } = new float[256];
    }

    [Fact]
    public void GetOutputSchema_AddsOneColumnPerOutput_WithKnownSizes()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.ApplyOnnxModelBatched(TestModels.VitSmall);
        var data = ml.Data.LoadFromEnumerable(ImageRow.Random(2, seed: 1));

        var shape = estimator.GetOutputSchema(SchemaShape.Create(data.Schema));
        using var transformer = estimator.Fit(data);
        var schema = transformer.GetOutputSchema(data.Schema);

        var logits = shape.Single(c => c.Name == "logits");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, logits.Kind);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 10), schema["logits"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 64), schema["embedding"].Type);
        Assert.Equal(new[] { "logits", "embedding" }, transformer.OutputColumnNames);
        Assert.Equal(new[] { "image" }, transformer.InputColumnNames);
    }

    [Fact]
    public void MissingColumn_FailsWhenThePipelineIsBuilt_NamingIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new OtherColumn() });
        var estimator = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(SchemaShape.Create(data.Schema)));
        Assert.Contains("Could not find input column 'x'", e.Message);
        var fit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Contains("Could not find input column 'x'", fit.Message);
    }

    [Fact]
    public void WrongColumnType_NamesColumnExpectedAndActual()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new WrongType() });

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data));

        Assert.Contains("Schema mismatch for input column 'x'", e.Message);
        Assert.Contains("expected Vector<Single, 256>", e.Message);
        Assert.Contains("got Vector<Double, 256>", e.Message);
    }

    [Fact]
    public void WrongVectorLength_NamesColumnExpectedAndActual()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new WrongLength() });

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data));

        Assert.Contains("Schema mismatch for input column 'x'", e.Message);
        Assert.Contains("expected Vector<Single, 256>", e.Message);
        Assert.Contains("(255 values)", e.Message);
    }

    [Fact]
    public void WrongLengthInsideABatch_NamesColumnAndRowPosition()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 12).Select(i => new VariableLength { x = new float[i == 9 ? 200 : 256] }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: 4).Fit(data);

        var e = Assert.Throws<InvalidOperationException>(() => scorer.Transform(data).GetColumn<VBuffer<float>>("y").ToArray());

        Assert.Contains("Column 'x' at row position 9", e.Message);
        Assert.Contains("expected 256 values", e.Message);
        Assert.Contains("got 200", e.Message);
    }

    [Fact]
    public void UnmappedGraphInput_FailsAtConstruction_NamingTheTensor()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.MultiIo,
            InputColumnNames = new[] { "a", "b", "c", "d" },
        }));

        Assert.Contains("The ONNX graph input 'm'", e.Message);
        Assert.Contains("is not mapped to a column", e.Message);
    }

    [Fact]
    public void UnknownTensorName_ListsTheGraphsTensors()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, outputColumnNames: new[] { "z" }));

        Assert.Contains("has no output named 'z'", e.Message);
        Assert.Contains("its outputs: y", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void BatchSizeBelowOne_IsRejected(int batchSize)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp, batchSize: batchSize));

        Assert.Contains($"BatchSize must be at least 1, got {batchSize}", e.Message);
    }

    [Fact]
    public void MismatchedNameLists_AreRejected()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.Mlp,
            OutputColumnNames = new[] { "Y1", "Y2" },
            OutputTensorNames = new[] { "y" },
        }));

        Assert.Contains("OutputColumnNames has 2 names but OutputTensorNames has 1", e.Message);
    }

    [Fact]
    public void NoModel_OrTwoModels_AreRejected()
    {
        var ml = new MLContext(seed: 1);

        var none = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options()));
        var both = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.Mlp,
            ModelBytes = File.ReadAllBytes(TestModels.Mlp),
        }));

        Assert.Contains("Give the ONNX model as ModelFile or ModelBytes", none.Message);
        Assert.Contains("not both", both.Message);
    }

    [Fact]
    public void MissingModelFile_NamesThePath()
    {
        var ml = new MLContext(seed: 1);
        string path = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N") + ".onnx");

        var e = Assert.Throws<FileNotFoundException>(() => ml.Transforms.ApplyOnnxModelBatched(path));

        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void CorruptModelFile_NamesThePath_AndKeepsTheRuntimeError()
    {
        using var folder = TestModels.TempFolder();
        string path = folder.File("corrupt.onnx");
        var bytes = File.ReadAllBytes(TestModels.Mlp);
        File.WriteAllBytes(path, bytes.Take(bytes.Length / 3).ToArray());
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.ApplyOnnxModelBatched(path));

        Assert.Contains($"Could not load the ONNX model '{path}'", e.Message);
        Assert.IsType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(e.InnerException);
    }

    [Fact]
    public void ModelBytes_WorkLikeAFile()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(3, seed: 2));
        using var fromFile = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        using var fromBytes = ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options { ModelBytes = File.ReadAllBytes(TestModels.Mlp) }).Fit(data);

        var a = fromFile.Transform(data).GetColumn<VBuffer<float>>("y").Select(v => v.DenseValues().ToArray()).ToArray();
        var b = fromBytes.Transform(data).GetColumn<VBuffer<float>>("y").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(a, b);
    }

    [Fact]
    public void TruncatedModelZip_FailsWithAFormatOrDataError()
    {
        using var folder = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(2, seed: 2));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        string zip = folder.File("model.zip");
        ml.Model.Save(scorer, data.Schema, zip);
        var bytes = File.ReadAllBytes(zip);
        File.WriteAllBytes(zip, bytes.Take(bytes.Length / 2).ToArray());

        var e = Record.Exception(() => new MLContext().Model.Load(zip, out _));

        // ML.NET's own message: the zip's central directory (at its end) is gone, so the archive does not open.
        var format = Assert.IsType<FormatException>(e);
        Assert.Equal("Failed to open a zip archive", format.Message);
        Assert.IsType<InvalidDataException>(format.InnerException);
        Assert.Contains("End of Central Directory", format.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TamperedOnnxBytesInTheZip_FailWithFormatException()
    {
        using var folder = TestModels.TempFolder();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MlpRow.Random(2, seed: 2));
        using var scorer = ml.Transforms.ApplyOnnxModelBatched(TestModels.Mlp).Fit(data);
        string zip = folder.File("model.zip");
        ml.Model.Save(scorer, data.Schema, zip);
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Update))
        {
            var entry = archive.Entries.Single(en => en.FullName.EndsWith("OnnxModel", StringComparison.Ordinal));
            byte[] content;
            using (var stream = entry.Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                content = copy.ToArray();
            }

            content[content.Length / 2] ^= 0x5A;
            entry.Delete();
            var replaced = archive.CreateEntry(entry.FullName);
            using var output = replaced.Open();
            output.Write(content);
        }

        // ML.NET's Load calls the loader through reflection and wraps what it throws; our own load call unwraps it.
        var wrapped = Assert.Throws<System.Reflection.TargetInvocationException>(() => new MLContext().Model.Load(zip, out _));
        var direct = Assert.Throws<FormatException>(() => new MLContext().Model.LoadWithExecutionProvider(zip, OnnxExecutionProvider.Cpu, 0, false, out _));

        var inner = Assert.IsType<FormatException>(wrapped.InnerException);
        Assert.Contains("SHA-256 does not match", inner.Message);
        Assert.Contains("SHA-256 does not match", direct.Message);
        // One exception naming the zip, the entry and the problem; the loader's own is kept inside it.
        Assert.StartsWith($"The model zip '{zip}' cannot be loaded: The model zip entry 'TransformerChain/", direct.Message, StringComparison.Ordinal);
        Assert.Contains("/OnnxModel' is corrupt: its ONNX model's SHA-256 does not match", direct.Message, StringComparison.Ordinal);
        Assert.Equal(inner.Message, Assert.IsType<FormatException>(direct.InnerException).Message);
    }

    [NoCudaFact]
    public void UnavailableProvider_WithoutFallback_ThrowsNotSupported_NamingProviderAndPackage()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<NotSupportedException>(() => ml.Transforms.ApplyOnnxModelBatched(new OnnxScoringEstimator.Options
        {
            ModelFile = TestModels.Mlp,
            ExecutionProvider = OnnxExecutionProvider.Cuda,
        }));

        Assert.Contains("'Cuda' (CUDAExecutionProvider) is not available", e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", e.Message);
        Assert.Contains("FallbackToCpu", e.Message);
    }
}
