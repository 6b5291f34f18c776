using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Benchmarks;

/// <summary>
/// CLIP: zero-shot images/s of EncodeClipImage + ClassifyZeroShot (MlNotes, from raw pixel bytes) against raw ONNX Runtime running
/// the image tower alone on pre-built tensors at the same batch size; and retrieval queries/s over 100,000 random normalized 64-d
/// vectors, MlNotes' batched search against a naive per-pair loop (and against one TensorPrimitives.Dot per pair, for the record).
/// </summary>
internal sealed class ClipScenario : IScenario
{
    private const int Batch = 128;
    private const int Dimension = 64;

    public string Name => "clip";

    public string Description => "zero-shot images/s vs raw ONNX Runtime; retrieval queries/s vs a naive loop (-- clip [repeats])";

    public int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0]) : 3;
        string root = VisionScenario.FindRoot();
        string imageTower = Path.Combine(root, "models-onnx", "clip-fashion-image.onnx");
        string textTower = Path.Combine(root, "models-onnx", "clip-fashion-text.onnx");
        string folder = Path.Combine(root, "models-onnx", "data", "fashion-mnist-subset");
        var ml = new MLContext(seed: 1);
        Console.WriteLine($"CLIP benchmark: {Environment.ProcessorCount} cores, best of {repeats} interleaved rounds, load average {LoadAverage()}.");

        // Zero-shot: the 2,000 subset images as raw grey bytes (no PNG decode on either side), 5 times over.
        var pixels = Directory.GetFiles(folder, "*.png").OrderBy(f => f, StringComparer.Ordinal).Select(f =>
        {
            using var image = MLImage.CreateFromFile(f);
            var px = image.Pixels.ToArray();
            return Enumerable.Range(0, 784).Select(i => px[(4 * i) + 1]).ToArray();
        }).ToArray();
        var rows = Enumerable.Range(0, 5).SelectMany(_ => pixels).Select(p => new RawRow { Pixels = p }).ToArray();
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows));
        Throughput.Drain<VBuffer<byte>>(data, nameof(RawRow.Pixels));
        // MlNotes with ONNX Runtime's default threads and with IntraOpNumThreads = 2; the better one is compared.
        // The encoder alone (its ImageEmbedding column, no zero-shot head) at each setting too: where the time goes.
        // Raw ONNX Runtime, same three-way choice of threads (on this VM the default runs like 1 thread): the best is the floor.
        // Each of the `repeats` rounds measures every configuration once (after a warm-up run), MlNotes and raw ORT in turn, and each
        // keeps its best: on a machine shared with other work a burst of load then hits both sides alike, not one side's whole phase.
        var zeroShot = new Dictionary<string, double>();
        var encoderOnly = new Dictionary<string, double>();
        var raw = new Dictionary<string, double>();
        MlNotes.Transforms.Vision.ImagePreprocessingSettings? preprocessing = null;
        const float Mean = 0.286f, Std = 0.353f;
        var tensors = rows.Select(r => r.Pixels.Select(b => ((b / 255f) - Mean) / Std).ToArray()).ToArray();
        static void Keep(Dictionary<string, double> best, string label, double rate) => best[label] = Math.Max(best.GetValueOrDefault(label), rate);
        for (int round = 0; round < repeats; round++)
        {
            foreach (int threads in new[] { 0, 2 })
            {
                var pipeline = ml.Transforms.EncodeClipImage(new MlNotes.Transforms.Vision.OnnxImageEncoderEstimator.Options
                {
                    ModelFile = imageTower, InputColumnName = nameof(RawRow.Pixels), RawPixelChannels = 1, BatchSize = Batch, IntraOpNumThreads = threads,
                }).Append(ml.Transforms.ClassifyZeroShot(textTower)).Fit(data);
                Keep(zeroShot, ThreadsLabel(threads), Throughput.Best(1, rows.Length, () => Throughput.Drain<VBuffer<float>>(pipeline.Transform(data), "Score")));
                var encoder = pipeline.First();
                Keep(encoderOnly, ThreadsLabel(threads), Throughput.Best(1, rows.Length, () => Throughput.Drain<VBuffer<float>>(encoder.Transform(data), "ImageEmbedding")));
                preprocessing ??= ((MlNotes.Transforms.Vision.OnnxImageEncoderTransformer)encoder).Config.Preprocessing;
                foreach (var t in pipeline)
                {
                    (t as IDisposable)?.Dispose();
                }
            }

            foreach (int threads in new[] { 0, 1, 2 })
            {
                using var options = new SessionOptions { IntraOpNumThreads = threads };
                using var session = new InferenceSession(imageTower, options);
                Keep(raw, ThreadsLabel(threads), RawRuns(session, tensors, 1));
            }
        }

        // Retrieval: 100,000 random unit vectors, queries are other random unit vectors, top 10.
        var random = new Random(7);
        float[] Unit()
        {
            var v = Enumerable.Range(0, Dimension).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
            return v;
        }

        var index = Enumerable.Range(0, 100_000).Select(_ => Unit()).ToArray();
        var queries = Enumerable.Range(0, 512).Select(_ => Unit()).ToArray();
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[nameof(VectorRow.Embedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        var indexData = ml.Data.LoadFromEnumerable(index.Select(v => new VectorRow { Embedding = v }), schema);
        var queryData = ml.Data.Cache(ml.Data.LoadFromEnumerable(queries.Select(v => new VectorRow { Embedding = v }), schema));
        Throughput.Drain<VBuffer<float>>(queryData, nameof(VectorRow.Embedding));
        var search = ml.Transforms.RetrieveNearestEmbeddings(topK: 10).Fit(indexData);
        double batched = Throughput.Best(repeats, queries.Length, () => Throughput.Drain<VBuffer<int>>(search.Transform(queryData), "TopKIndices"));
        var sample = queries.Take(48).ToArray();
        var flat = index.SelectMany(v => v).ToArray();
        int[] naiveFirst = Array.Empty<int>();
        double naive = Throughput.Best(repeats, sample.Length, () => naiveFirst = NaiveSearch(flat, sample, 10, dot: false));
        double dotPerPair = Throughput.Best(repeats, sample.Length, () => NaiveSearch(flat, sample, 10, dot: true));
        var ours = search.Transform(queryData).GetColumn<VBuffer<int>>("TopKIndices").First().DenseValues().ToArray();
        bool same = ours.SequenceEqual(naiveFirst);

        Console.WriteLine();
        Console.WriteLine($"  {"zero-shot (10,000 images, batch 128)",-66} {"images/s",10}");
        foreach (var (threads, rate) in zeroShot)
        {
            Console.WriteLine($"  {"EncodeClipImage + ClassifyZeroShot (MlNotes, raw pixel bytes), " + threads,-66} {rate,10:N0}");
        }

        foreach (var (threads, rate) in encoderOnly)
        {
            Console.WriteLine($"  {"EncodeClipImage alone (MlNotes, its ImageEmbedding column), " + threads,-66} {rate,10:N0}");
        }

        foreach (var (threads, rate) in raw)
        {
            Console.WriteLine($"  {"raw ONNX Runtime Run, image tower alone, pre-built tensors, " + threads,-66} {rate,10:N0}");
        }

        double bestZeroShot = zeroShot.Values.Max(), bestRaw = raw.Values.Max();
        // Where the time goes, per image: the preprocessing alone (one thread, the 10,000 raw byte images into one tensor row), the
        // encoder's pipeline beyond the graph, and the zero-shot head (the pipeline minus the encoder alone), at their best settings.
        var preprocessor = new MlNotes.Transforms.Vision.ImagePreprocessor(preprocessing!);
        var tensorRow = new float[preprocessor.Length];
        double preprocessRate = Throughput.Best(repeats, rows.Length, () =>
        {
            foreach (var row in rows)
            {
                preprocessor.Run(row.Pixels, 28, 28, MlNotes.Transforms.Vision.PixelFormat.Grey, tensorRow);
            }
        });
        double bestEncoder = encoderOnly.Values.Max();
        Console.WriteLine($"  per image: graph {1e6 / bestRaw:F1} us (raw ORT at its best), preprocessing {1e6 / preprocessRate:F2} us, " +
            $"encoder pipeline {1e6 / bestEncoder:F1} us, zero-shot head {(1e6 / bestZeroShot) - (1e6 / bestEncoder):F1} us, whole pipeline {1e6 / bestZeroShot:F1} us");
        Console.WriteLine();
        Console.WriteLine($"  {"retrieval (100,000 x 64-d index, top 10)",-66} {"queries/s",10}");
        Console.WriteLine($"  {"RetrieveNearestEmbeddings (MlNotes, batches of 64 queries)",-66} {batched,10:N0}");
        Console.WriteLine($"  {"naive per-pair loop (scalar dot, insertion top-k)",-66} {naive,10:N0}");
        Console.WriteLine($"  {"one TensorPrimitives.Dot per pair (vectorized, not batched)",-66} {dotPerPair,10:N0}");
        Console.WriteLine($"  first query's top 10 equal to the naive loop's: {same}");
        Console.WriteLine($"RESULT clip zeroshot_vs_ort={bestZeroShot / bestRaw:F2} retrieval_vs_naive={batched / naive:F1}");
        return same ? 0 : 1;
    }

    private static int[] NaiveSearch(float[] index, float[][] queries, int k, bool dot)
    {
        int n = index.Length / Dimension;
        int[] first = new int[k];
        var bestIndex = new int[k];
        var bestScore = new float[k];
        for (int q = 0; q < queries.Length; q++)
        {
            var query = queries[q];
            Array.Fill(bestScore, float.NegativeInfinity);
            for (int i = 0; i < n; i++)
            {
                float s;
                if (dot)
                {
                    s = TensorPrimitives.Dot(query, index.AsSpan(i * Dimension, Dimension));
                }
                else
                {
                    s = 0;
                    for (int j = 0; j < Dimension; j++)
                    {
                        s += query[j] * index[(i * Dimension) + j];
                    }
                }

                if (s <= bestScore[k - 1])
                {
                    continue;
                }

                int at = k - 1;
                while (at > 0 && bestScore[at - 1] < s)
                {
                    bestScore[at] = bestScore[at - 1];
                    bestIndex[at] = bestIndex[at - 1];
                    at--;
                }

                bestScore[at] = s;
                bestIndex[at] = i;
            }

            if (q == 0)
            {
                bestIndex.CopyTo(first, 0);
            }
        }

        return first;
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string ThreadsLabel(int threads) => threads == 0 ? "default threads" : $"IntraOp={threads}";

    // The floor: every batch packed into an OrtValue before the clock starts; the timed part is one Run per batch.
    private static double RawRuns(InferenceSession session, float[][] tensors, int repeats)
    {
        var batches = new List<OrtValue>();
        try
        {
            for (int start = 0; start < tensors.Length; start += Batch)
            {
                int n = Math.Min(Batch, tensors.Length - start);
                var buffer = new float[n * 784];
                for (int i = 0; i < n; i++)
                {
                    tensors[start + i].CopyTo(buffer, i * 784);
                }

                batches.Add(OrtValue.CreateTensorValueFromMemory(buffer, new long[] { n, 1, 28, 28 }));
            }

            using var options = new RunOptions();
            string[] inputNames = { "image" }, outputNames = { "image_embeds" };
            return Throughput.Best(repeats, tensors.Length, () =>
            {
                foreach (var input in batches)
                {
                    using var result = session.Run(options, inputNames, new[] { input }, outputNames);
                }
            });
        }
        finally
        {
            batches.ForEach(b => b.Dispose());
        }
    }

    private sealed class RawRow
    {
        [VectorType(784)]
        public byte[] Pixels { get; set; } = Array.Empty<byte>();
    }

    private sealed class VectorRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
