using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlNotes.Transforms.Clip;

/// <summary>
/// An exact nearest-neighbour index over L2-normalized embeddings, searched as a batched matrix product: the index is packed in
/// column blocks of <see cref="BlockWidth"/> vectors (dimension-major inside a block, so a block of scores is a small GEMM that
/// stays in cache), and each batch of queries is multiplied by every block, 4 queries by 16 index vectors per register tile.
/// </summary>
internal sealed class EmbeddingIndex
{
    public const int BlockWidth = 256;

    private readonly float[] _packed; // block b, dimension k, column j: [b * Dimension * BlockWidth + k * BlockWidth + j]

    /// <summary>Builds the index from <paramref name="vectors"/> (count x dimension, row-major), normalizing each row unless <paramref name="normalized"/>.</summary>
    public EmbeddingIndex(float[] vectors, int count, int dimension, bool normalized)
    {
        Count = count;
        Dimension = dimension;
        Vectors = vectors;
        for (int i = 0; i < count && !normalized; i++)
        {
            Onnx.EmbeddingMath.Normalize(vectors.AsSpan(i * dimension, dimension));
        }

        Blocks = (count + BlockWidth - 1) / BlockWidth;
        _packed = new float[Blocks * dimension * BlockWidth];
        for (int i = 0; i < count; i++)
        {
            int block = i / BlockWidth, column = i % BlockWidth;
            int origin = block * dimension * BlockWidth;
            for (int k = 0; k < dimension; k++)
            {
                _packed[origin + (k * BlockWidth) + column] = vectors[(i * dimension) + k];
            }
        }
    }

    public int Count { get; }

    public int Dimension { get; }

    public int Blocks { get; }

    /// <summary>The normalized vectors, row-major (what a saved model stores).</summary>
    public float[] Vectors { get; }

    /// <summary>
    /// For each of the <paramref name="queryCount"/> normalized queries (row-major), the <paramref name="k"/> most similar index
    /// vectors, best first (ties: the lower index first), written to <paramref name="indices"/> and <paramref name="scores"/> (query x k).
    /// </summary>
    public void Search(ReadOnlySpan<float> queries, int queryCount, int k, Span<int> indices, Span<float> scores, Workspace workspace)
    {
        var heaps = workspace.Heaps(queryCount, k);
        var blockScores = workspace.Scores(queryCount);
        for (int block = 0; block < Blocks; block++)
        {
            ScoreBlock(queries, queryCount, _packed.AsSpan(block * Dimension * BlockWidth, Dimension * BlockWidth), blockScores);
            int first = block * BlockWidth;
            int width = Math.Min(BlockWidth, Count - first);
            for (int q = 0; q < queryCount; q++)
            {
                heaps[q].Offer(blockScores.Slice(q * BlockWidth, width), first);
            }
        }

        for (int q = 0; q < queryCount; q++)
        {
            heaps[q].Drain(indices.Slice(q * k, k), scores.Slice(q * k, k));
        }
    }

    /// <summary>The naive reference: one dot product per pair, for tests.</summary>
    public float Score(ReadOnlySpan<float> query, int index) => TensorPrimitives.Dot(query, Vectors.AsSpan(index * Dimension, Dimension));

    // C(m, BlockWidth) = Q(m, d) P(d, BlockWidth).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScoreBlock(ReadOnlySpan<float> queries, int m, ReadOnlySpan<float> packed, Span<float> c)
    {
        int d = Dimension;
        ref float rq = ref MemoryMarshal.GetReference(queries);
        ref float rp = ref MemoryMarshal.GetReference(packed);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int q = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; q + 4 <= m; q += 4)
            {
                for (int j = 0; j < BlockWidth; j += 16)
                {
                    Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
                    Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
                    for (int k = 0; k < d; k++)
                    {
                        ref float row = ref Unsafe.Add(ref rp, (k * BlockWidth) + j);
                        var p0 = Vector256.LoadUnsafe(ref row);
                        var p1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref row, 8));
                        var a0 = Vector256.Create(Unsafe.Add(ref rq, (q * d) + k));
                        var a1 = Vector256.Create(Unsafe.Add(ref rq, ((q + 1) * d) + k));
                        var a2 = Vector256.Create(Unsafe.Add(ref rq, ((q + 2) * d) + k));
                        var a3 = Vector256.Create(Unsafe.Add(ref rq, ((q + 3) * d) + k));
                        c00 = Vector256.FusedMultiplyAdd(a0, p0, c00);
                        c01 = Vector256.FusedMultiplyAdd(a0, p1, c01);
                        c10 = Vector256.FusedMultiplyAdd(a1, p0, c10);
                        c11 = Vector256.FusedMultiplyAdd(a1, p1, c11);
                        c20 = Vector256.FusedMultiplyAdd(a2, p0, c20);
                        c21 = Vector256.FusedMultiplyAdd(a2, p1, c21);
                        c30 = Vector256.FusedMultiplyAdd(a3, p0, c30);
                        c31 = Vector256.FusedMultiplyAdd(a3, p1, c31);
                    }

                    c00.StoreUnsafe(ref Unsafe.Add(ref rc, (q * BlockWidth) + j));
                    c01.StoreUnsafe(ref Unsafe.Add(ref rc, (q * BlockWidth) + j + 8));
                    c10.StoreUnsafe(ref Unsafe.Add(ref rc, ((q + 1) * BlockWidth) + j));
                    c11.StoreUnsafe(ref Unsafe.Add(ref rc, ((q + 1) * BlockWidth) + j + 8));
                    c20.StoreUnsafe(ref Unsafe.Add(ref rc, ((q + 2) * BlockWidth) + j));
                    c21.StoreUnsafe(ref Unsafe.Add(ref rc, ((q + 2) * BlockWidth) + j + 8));
                    c30.StoreUnsafe(ref Unsafe.Add(ref rc, ((q + 3) * BlockWidth) + j));
                    c31.StoreUnsafe(ref Unsafe.Add(ref rc, ((q + 3) * BlockWidth) + j + 8));
                }
            }
        }

        // The remaining queries: one row of C as a sum of scaled rows of P (TensorPrimitives vectorizes each).
        for (; q < m; q++)
        {
            var target = c.Slice(q * BlockWidth, BlockWidth);
            target.Clear();
            for (int k = 0; k < d; k++)
            {
                TensorPrimitives.MultiplyAdd(packed.Slice(k * BlockWidth, BlockWidth), queries[(q * d) + k], target, target);
            }
        }
    }

    /// <summary>Per-cursor scratch space: the block of scores and one top-k heap per query.</summary>
    internal sealed class Workspace
    {
        private float[] _scores = Array.Empty<float>();
        private TopK[] _heaps = Array.Empty<TopK>();

        public Span<float> Scores(int queries)
        {
            if (_scores.Length < queries * BlockWidth)
            {
                _scores = new float[queries * BlockWidth];
            }

            return _scores.AsSpan(0, queries * BlockWidth);
        }

        public TopK[] Heaps(int queries, int k)
        {
            if (_heaps.Length < queries || (_heaps.Length > 0 && _heaps[0].K != k))
            {
                _heaps = new TopK[queries];
                for (int i = 0; i < queries; i++)
                {
                    _heaps[i] = new TopK(k);
                }
            }

            for (int i = 0; i < queries; i++)
            {
                _heaps[i].Clear();
            }

            return _heaps;
        }
    }

    /// <summary>The k best (score, index) pairs seen: a min-heap on (score, -index), so the root is the one to evict.</summary>
    internal sealed class TopK
    {
        private readonly float[] _scores;
        private readonly int[] _indices;
        private int _count;

        public TopK(int k)
        {
            K = k;
            _scores = new float[k];
            _indices = new int[k];
        }

        public int K { get; }

        public void Clear() => _count = 0;

        public void Offer(ReadOnlySpan<float> scores, int firstIndex)
        {
            int w = Vector256<float>.Count;
            for (int j = 0; j < scores.Length; j++)
            {
                // Once the heap is full, most runs of 8 scores hold nothing above its worst: skip them in one compare.
                if (_count == K && Vector256.IsHardwareAccelerated && (j % w) == 0 && j + w <= scores.Length
                    && !Vector256.GreaterThanAny(Vector256.Create(scores.Slice(j, w)), Vector256.Create(_scores[0])))
                {
                    j += w - 1;
                    continue;
                }

                float s = scores[j];
                if (_count < K)
                {
                    _scores[_count] = s;
                    _indices[_count] = firstIndex + j;
                    SiftUp(_count++);
                }
                else if (s > _scores[0])
                {
                    // Indices only grow, so an equal score never displaces: ties keep the lower index.
                    _scores[0] = s;
                    _indices[0] = firstIndex + j;
                    SiftDown(0);
                }
            }
        }

        /// <summary>Best first; empties the heap.</summary>
        public void Drain(Span<int> indices, Span<float> scores)
        {
            for (int i = _count - 1; i >= 0; i--)
            {
                indices[i] = _indices[0];
                scores[i] = _scores[0];
                _count--;
                _scores[0] = _scores[_count];
                _indices[0] = _indices[_count];
                SiftDown(0);
            }
        }

        // a is worse than b: lower score, or the same score and a higher index.
        private bool Worse(int a, int b) => _scores[a] < _scores[b] || (_scores[a] == _scores[b] && _indices[a] > _indices[b]);

        private void SiftUp(int i)
        {
            while (i > 0)
            {
                int parent = (i - 1) / 2;
                if (!Worse(i, parent))
                {
                    return;
                }

                Swap(i, parent);
                i = parent;
            }
        }

        private void SiftDown(int i)
        {
            while (true)
            {
                int left = (2 * i) + 1, worst = i;
                if (left < _count && Worse(left, worst))
                {
                    worst = left;
                }

                if (left + 1 < _count && Worse(left + 1, worst))
                {
                    worst = left + 1;
                }

                if (worst == i)
                {
                    return;
                }

                Swap(i, worst);
                i = worst;
            }
        }

        private void Swap(int a, int b)
        {
            (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
            (_indices[a], _indices[b]) = (_indices[b], _indices[a]);
        }
    }
}
