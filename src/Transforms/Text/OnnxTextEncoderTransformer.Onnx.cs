using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Text;

/// <summary>What an added column of the text encoder holds.</summary>
internal enum TextOutputKind
{
    Embedding,
    Score,
    PredictedLabel,
    TokenEmbeddings,
}

/// <summary>One added column: the schema's entry and what its getter reads (<see cref="OnnxTextEncoderTransformer"/>'s one table of them).</summary>
internal sealed record TextOutputColumn(TextOutputKind Kind, string Name, DataViewType Type, DataViewSchema.Annotations? Annotations);

/// <summary>The graph tensors a text encoder feeds and reads, bound for <see cref="OnnxBatch"/> (element types from the graph).</summary>
internal sealed record TextGraphBindings(OnnxColumnBinding Ids, OnnxColumnBinding? Mask, OnnxColumnBinding? Types, OnnxColumnBinding? Hidden, OnnxColumnBinding? Pooled, OnnxColumnBinding? Logits)
{
    public static TextGraphBindings Create(OnnxModel model, TextEncoderConfig c)
    {
        OnnxColumnBinding? Bind(string? name, bool input)
            => name == null ? null : new OnnxColumnBinding(name, OnnxTensorInfo.Create(name, (input ? model.InputMetadata : model.OutputMetadata)[name], model.Name, input, float16: true));

        return new(Bind(c.InputIdsTensorName, true)!, Bind(c.AttentionMaskTensorName, true), Bind(c.TokenTypeIdsTensorName, true),
            Bind(c.HiddenStateTensorName, false), Bind(c.PooledTensorName, false), Bind(c.LogitsTensorName, false));
    }

    /// <summary>The outputs, in the order of <see cref="OnnxTextEncoderTransformer.ReadFloats"/>' index: token states, pooled, logits.</summary>
    public OnnxColumnBinding?[] Outputs => new[] { Hidden, Pooled, Logits };
}

public sealed partial class OnnxTextEncoderTransformer
{
    private static TextOutputColumn[] Columns(TextEncoderConfig c, ReadOnlyMemory<char>[] classNames)
    {
        var columns = new List<TextOutputColumn> { new(TextOutputKind.Embedding, c.EmbeddingColumnName, new VectorDataViewType(NumberDataViewType.Single, c.EmbeddingSize), null) };
        if (c.ScoreColumnName != null && c.PredictedLabelColumnName != null)
        {
            var builder = new DataViewSchema.Builder();
            ClassificationOutputs.AddColumns(builder, c.ScoreColumnName, c.PredictedLabelColumnName, classNames);
            var schema = builder.ToSchema();
            columns.Add(new(TextOutputKind.Score, schema[0].Name, schema[0].Type, schema[0].Annotations));
            columns.Add(new(TextOutputKind.PredictedLabel, schema[1].Name, schema[1].Type, schema[1].Annotations));
        }

        if (c.TokenEmbeddingsColumnName != null)
        {
            columns.Add(new(TextOutputKind.TokenEmbeddings, c.TokenEmbeddingsColumnName, new VectorDataViewType(NumberDataViewType.Single), null));
        }

        return columns.ToArray();
    }

    /// <summary>
    /// An engine batch over the graph: ids, mask and token types (all 0) as sequence inputs of the graph's integer type, whose
    /// values <paramref name="id"/> and <paramref name="mask"/> give by (row, token); outputs token states, pooled, logits, as active.
    /// </summary>
    private OnnxBatch CreateOnnxBatch(Func<int, int, long> id, Func<int, int, long> mask, bool[] active, int capacity)
    {
        var g = _graphOutputs;
        var inputs = new List<OnnxBatch.InputSlots> { TokenInput(g.Ids, id, capacity) };
        if (g.Mask != null)
        {
            inputs.Add(TokenInput(g.Mask, mask, capacity));
        }

        if (g.Types != null)
        {
            inputs.Add(TokenInput(g.Types, (_, _) => 0, capacity));
        }

        var outputs = g.Outputs;
        var present = Enumerable.Range(0, outputs.Length).Where(i => outputs[i] != null).ToArray();
        return new OnnxBatch(_model, inputs, present.Select(i => outputs[i]!).ToArray(), present.Select(i => active[i]).ToArray(), capacity);
    }

    private static OnnxBatch.InputSlots TokenInput(OnnxColumnBinding binding, Func<int, int, long> value, int capacity)
    {
        if (binding.Tensor.ClrType == typeof(int))
        {
            return OnnxBatch.Sequence<int>(binding, (destination, row) =>
            {
                for (int t = 0; t < destination.Length; t++)
                {
                    destination[t] = (int)value(row, t);
                }
            }, capacity);
        }

        return OnnxBatch.Sequence<long>(binding, (destination, row) =>
        {
            for (int t = 0; t < destination.Length; t++)
            {
                destination[t] = value(row, t);
            }
        }, capacity);
    }

    /// <summary>The first values of output <paramref name="output"/> (0 token states, 1 pooled, 2 logits) for <paramref name="slot"/>, as float32.</summary>
    private void ReadFloats(OnnxBatch onnx, int output, int slot, Span<float> destination)
    {
        int index = _graphOutputs.Outputs.Take(output).Count(o => o != null);
        var type = _graphOutputs.Outputs[output]!.Tensor.ClrType;
        if (type == typeof(float))
        {
            onnx.OutputRow<float>(index, slot)[..destination.Length].CopyTo(destination);
        }
        else if (type == typeof(Float16))
        {
            var half = MemoryMarshal.Cast<Float16, Half>(onnx.OutputRow<Float16>(index, slot));
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)half[i];
            }
        }
        else
        {
            var values = onnx.OutputRow<double>(index, slot);
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)values[i];
            }
        }
    }

    /// <summary>
    /// The graph's embedding table must hold every id of the vocab. ONNX Runtime rejects an id past the table, so a probe
    /// with the vocab's last id tells; a binary search then finds the table's size for the message. The probes run through
    /// the engine's batch, as the texts do: [0, id], mask 1.
    /// </summary>
    private void CheckVocabFitsTheGraph(string vocabFile)
    {
        int vocabSize = _tokenizer.VocabSize;
        var outputs = _graphOutputs.Outputs;
        int first = Array.FindIndex(outputs, o => o != null);
        using var onnx = CreateOnnxBatch((row, t) => t == 0 ? 0 : row, (_, _) => 1, outputs.Select((_, i) => i == first).ToArray(), 1);
        bool Probe(int id)
        {
            onnx.Clear();
            onnx.SequenceLength = 2;
            onnx.Add(0, id);
            try
            {
                onnx.Run();
                return true;
            }
            catch (InvalidOperationException e) when (e.InnerException is OnnxRuntimeException)
            {
                return false;
            }
        }

        if (Probe(vocabSize - 1))
        {
            return;
        }

        int low = 0, high = vocabSize - 1; // low works, high fails
        while (high - low > 1)
        {
            int mid = low + ((high - low) / 2);
            if (Probe(mid))
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        ThrowHelper.InvalidOperation(
            $"The vocab file '{vocabFile}' has {vocabSize} tokens, but the embedding table of the ONNX model {_model.Name} has {low + 1} rows: " +
            "this vocab does not belong to this graph.");
    }
}
