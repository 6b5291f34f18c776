using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Benchmarks;

/// <summary>
/// The floor of one row at a time: a greedy decode of the G2P graphs (decoder contract 2) straight on two ONNX Runtime sessions,
/// one word per run, with the session settings MlNotes gives an explicit thread count (all graph optimizations, spinning on):
/// per step only the OrtValues of that step's shapes over preallocated buffers, the run, and an arg-max. The generate scenario
/// sets MlNotes' one-row-at-a-time rate beside it, so the gap is MlNotes' own work per step and per row (the pipeline, the
/// cursor, the batch, log-softmax and the token history), the rest being ONNX Runtime's per-run cost.
/// </summary>
internal sealed class GenerateRawOrt : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private readonly Func<long> _pass;

    public GenerateRawOrt(string manifest, IReadOnlyList<string> words, int threads)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        var root = doc.RootElement;
        var decoder = root.GetProperty("decoder");
        if (!decoder.TryGetProperty("contract", out var contract) || contract.GetInt32() != 2)
        {
            throw new InvalidOperationException($"{manifest}: the raw ONNX Runtime loop runs decoder contract 2 only.");
        }

        int layers = decoder.GetProperty("layers").GetInt32(), heads = decoder.GetProperty("heads").GetInt32(), dk = decoder.GetProperty("head_dim").GetInt32();
        int maxNew = root.GetProperty("generation").GetProperty("max_new_tokens").GetInt32();
        var ids = root.GetProperty("special_token_ids");
        int unk = ids.GetProperty("unk").GetInt32(), bos = ids.GetProperty("bos").GetInt32(), eos = ids.GetProperty("eos").GetInt32();
        var symbols = root.GetProperty("source").GetProperty("symbols").EnumerateArray().Select(e => e.GetString()!).ToList();
        int vocab = root.GetProperty("target").GetProperty("symbols").GetArrayLength();
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifest))!;

        var options = Own(new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "1");
        var encoder = Own(new InferenceSession(Path.Combine(folder, root.GetProperty("encoder").GetProperty("model_file").GetString()!), options));
        var step = Own(new InferenceSession(Path.Combine(folder, decoder.GetProperty("model_file").GetString()!), options));
        var runOptions = Own(new RunOptions());
        string[] cross = Enumerable.Range(0, layers).SelectMany(i => new[] { $"cross_key_{i}", $"cross_value_{i}" }).ToArray();
        string[] past = Enumerable.Range(0, layers).SelectMany(i => new[] { $"past_key_{i}", $"past_value_{i}" }).ToArray();
        string[] present = Enumerable.Range(0, layers).SelectMany(i => new[] { $"key_{i}", $"value_{i}" }).ToArray();
        string[] encoderInputs = ["input_ids", "attention_mask"];
        string[] stepInputs = ["input_ids", "position_ids", "attention_mask", "encoder_attention_mask", .. cross, .. past];
        string[] stepOutputs = ["logits", .. present];
        int maxSource = root.GetProperty("source").GetProperty("max_length").GetInt32();
        var crossBuffers = cross.Select(_ => new float[heads * maxSource * dk]).ToArray();
        var cache = past.Select(_ => new float[(maxNew + 1) * heads * dk]).ToArray();
        var logits = new float[vocab];
        long[] source = new long[maxSource], ones = Enumerable.Repeat(1L, maxSource + maxNew + 1).ToArray(), token = new long[1], position = new long[1];

        long Pass()
        {
            long tokens = 0;
            foreach (string word in words)
            {
                int n = word.Length + 1;
                for (int j = 0; j < word.Length; j++)
                {
                    int id = symbols.IndexOf(char.ToLowerInvariant(word[j]).ToString());
                    source[j] = id < 0 ? unk : id;
                }

                source[word.Length] = eos;
                var encoderIn = new List<OrtValue> { Tensor(source, n, [1, n]), Tensor(ones, n, [1, n]) };
                var encoderOut = crossBuffers.Select(b => Tensor(b, heads * n * dk, [1, heads, n, dk])).ToList();
                encoder.Run(runOptions, encoderInputs, encoderIn, cross, encoderOut);
                Dispose(encoderIn);
                Dispose(encoderOut);
                token[0] = bos;
                for (int t = 0; t < maxNew; t++)
                {
                    position[0] = t;
                    var inputs = new List<OrtValue> { Tensor(token, 1, [1, 1]), Tensor(position, 1, [1, 1]), Tensor(ones, t + 1, [1, t + 1]), Tensor(ones, n, [1, n]) };
                    inputs.AddRange(crossBuffers.Select(b => Tensor(b, heads * n * dk, [1, heads, n, dk])));
                    inputs.AddRange(cache.Select(c => Tensor(c, t * heads * dk, [t, 1, heads, dk])));
                    var outputs = new List<OrtValue> { Tensor(logits, vocab, [1, 1, vocab]) };
                    outputs.AddRange(cache.Select(c => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(c, t * heads * dk, heads * dk), [1, 1, heads, dk])));
                    step.Run(runOptions, stepInputs, inputs, stepOutputs, outputs);
                    Dispose(inputs);
                    Dispose(outputs);
                    int best = 0;
                    for (int v = 1; v < vocab; v++)
                    {
                        best = logits[v] > logits[best] ? v : best;
                    }

                    tokens++;
                    if (best == eos)
                    {
                        break;
                    }

                    token[0] = best;
                }
            }

            return tokens;
        }

        _pass = Pass;
    }

    /// <summary>Generates for every word, one at a time; returns the generated tokens (end-of-sequence included).</summary>
    public long Pass() => _pass();

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }

    private T Own<T>(T value)
        where T : IDisposable
    {
        _owned.Add(value);
        return value;
    }

    private static OrtValue Tensor<T>(T[] data, int length, long[] shape)
        where T : unmanaged
        => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(data, 0, length), shape);

    private static void Dispose(List<OrtValue> values)
    {
        foreach (var v in values)
        {
            v.Dispose();
        }
    }
}
