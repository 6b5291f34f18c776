using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlNotes.Benchmarks;

/// <summary>
/// What the G2P graphs themselves allow the KV cache to gain, with nothing of MlNotes around them: straight on ONNX Runtime
/// (2 intra-op threads, all graph optimizations, spinning on), a batch of 64 sources of 10 tokens, the encoder run once, then a
/// decode of T steps in which no row finishes early: cached (step t feeds one token over a past of t) against recomputing the
/// prefix (step t feeds t + 1 tokens over no past). The ratio of the two sums, the encoder included in both, bounds the generate
/// scenario's cache_vs_nocache for batches that run T steps; rows leaving the batch lower it further, since they shorten the
/// uncached decode's longest prefixes most. Printed for T = 7 (the G2P test words' mean output, end-of-sequence included) and
/// T = 13 (the longest row of an average batch of 64), and T = 30 (the longest the manifest allows).
/// </summary>
internal sealed class GenerateStepsScenario : IScenario
{
    private const int Batch = 64, Source = 10, Threads = 2;

    public string Name => "generate-steps";

    public string Description => "the G2P graphs alone on ONNX Runtime: encoder and decoder step costs, cached vs recomputed, and the cache's bound (-- generate-steps [repeats])";

    public int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        string models = Path.Combine(VisionScenario.FindRoot(), "models-onnx");
        using var options = new SessionOptions { IntraOpNumThreads = Threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var encoder = new InferenceSession(Path.Combine(models, "g2p-cmudict-encoder.onnx"), options);
        using var decoder = new InferenceSession(Path.Combine(models, "g2p-cmudict-decoder.onnx"), options);
        int layers = decoder.InputMetadata.Keys.Count(k => k.StartsWith("past_key_", StringComparison.Ordinal));
        var pastShape = decoder.InputMetadata["past_key_0"].Dimensions; // [past, batch, heads, head_dim]
        int heads = pastShape[2], headDim = pastShape[3];

        var sourceMask = Tensor(Batch, Source, 1L);
        var encoderInputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", Tensor(Batch, Source, 5L)),
            NamedOnnxValue.CreateFromTensor("attention_mask", sourceMask),
        };
        List<NamedOnnxValue> cross;
        using (var encoded = encoder.Run(encoderInputs))
        {
            cross = encoded.Skip(1).Select(v => NamedOnnxValue.CreateFromTensor(v.Name, v.AsTensor<float>().ToDenseTensor())).ToList();
        }

        double encoderMs = Best(repeats, () => encoder.Run(encoderInputs).Dispose());
        const int longest = 30;
        var cached = new double[longest];
        var uncached = new double[longest];
        for (int t = 0; t < longest; t++)
        {
            var step = StepInputs(1, t, sourceMask, cross, layers, heads, headDim);
            var recompute = StepInputs(t + 1, 0, sourceMask, cross, layers, heads, headDim);
            cached[t] = Best(repeats, () => decoder.Run(step).Dispose());
            uncached[t] = Best(repeats, () => decoder.Run(recompute).Dispose());
        }

        Console.WriteLine($"G2P graphs alone on ONNX Runtime, batch {Batch}, sources of {Source} tokens, {Threads} intra-op threads, best of {repeats} runs each after a warm-up; load average {GenerateScenario.LoadAverage()}.");
        Console.WriteLine($"  encoder (with the cross-attention keys and values): {encoderMs:F2} ms a batch");
        Console.WriteLine($"  {"step t",7} {"cached (1 token, past t)",26} {"recomputed (t + 1 tokens)",27}");
        foreach (int t in new[] { 0, 1, 3, 6, 12, 20, 29 })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {t,7} {cached[t],23:F2} ms {uncached[t],24:F2} ms"));
        }

        var bounds = new[] { 7, 13, 30 }.Select(steps =>
        {
            double c = encoderMs + cached.Take(steps).Sum(), u = encoderMs + uncached.Take(steps).Sum();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {steps,2} steps: cached {c,7:F1} ms, recomputed {u,7:F1} ms a batch (encoder {encoderMs / c:P0} of the cached): recomputed / cached = {u / c:F2}"));
            return u / c;
        }).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT generate-steps cache_bound_t7={bounds[0]:F2} cache_bound_t13={bounds[1]:F2} cache_bound_t30={bounds[2]:F2}"));
        return 0;
    }

    private static List<NamedOnnxValue> StepInputs(int n, int past, DenseTensor<long> sourceMask, List<NamedOnnxValue> cross, int layers, int heads, int headDim)
    {
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", Tensor(Batch, n, 6L)),
            NamedOnnxValue.CreateFromTensor("position_ids", new DenseTensor<long>(Enumerable.Range(0, Batch * n).Select(i => (long)(past + (i % n))).ToArray(), [Batch, n])),
            NamedOnnxValue.CreateFromTensor("attention_mask", Tensor(Batch, past + n, 1L)),
            NamedOnnxValue.CreateFromTensor("encoder_attention_mask", sourceMask),
        };
        inputs.AddRange(cross);
        for (int l = 0; l < layers; l++)
        {
            foreach (string kv in new[] { "key", "value" })
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor($"past_{kv}_{l}", new DenseTensor<float>(new float[past * Batch * heads * headDim], [past, Batch, heads, headDim])));
            }
        }

        return inputs;
    }

    private static DenseTensor<long> Tensor(int rows, int columns, long value)
        => new(Enumerable.Repeat(value, rows * columns).ToArray(), [rows, columns]);

    /// <summary>The fastest of <paramref name="repeats"/> timed calls after a warm-up, in milliseconds.</summary>
    private static double Best(int repeats, Action run) => 1000.0 / Throughput.Best(repeats, 1, run);
}
