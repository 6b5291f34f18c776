using System;
using System.Collections.Generic;

namespace MlNotes.Transforms.Generation;

internal sealed partial class SequenceGenerator
{
    /// <summary>
    /// Greedy search (the arg-max token, the lowest id on a tie) or sampling; score = the sum of the model's log-softmax of the
    /// chosen tokens (at temperature 1, end-of-sequence included).
    /// </summary>
    private void GreedyOrSample(int rows, int sourceLength, IReadOnlyList<ulong> seeds, GeneratedRow[] results, string what)
    {
        int v = _graph.Vocabulary, stride = _config.MaxNewTokens + 1;
        var done = new bool[rows];
        var lengths = new int[rows];
        var score = new double[rows];
        var logp = new double[v];
        var sampler = _config.Strategy == GenerationStrategy.Sample ? new TokenSampler(_config, v) : null;
        var random = new SplitMix64[rows];
        for (int r = 0; r < rows; r++)
        {
            random[r] = new SplitMix64(seeds[r]);
            _tokens[r] = _graph.BosId;
        }

        int remaining = rows;
        for (int t = 0; t < _config.MaxNewTokens && remaining > 0; t++)
        {
            int offset = Step(rows, t, sourceLength, what);
            for (int r = 0; r < rows; r++)
            {
                if (done[r])
                {
                    _tokens[r] = _graph.PadId;
                    continue;
                }

                LogSoftmax(offset, r, logp);
                int next = sampler != null
                    ? sampler.Sample(_logits.AsSpan(offset + r * LogitStride, v), ref random[r])
                    : ArgMax(logp);
                score[r] += logp[next];
                if (next == _graph.EosId)
                {
                    done[r] = true;
                    remaining--;
                    _tokens[r] = _graph.PadId;
                    continue;
                }

                _history[r * stride + lengths[r]++] = next;
                _tokens[r] = next;
            }
        }

        for (int r = 0; r < rows; r++)
        {
            results[r].Add(_history.AsSpan(r * stride, lengths[r]).ToArray(), score[r], done[r]);
        }
    }

    /// <summary>
    /// Beam search of width W per row (g2p_build.py's reference): every alive hypothesis is extended by every token; of all the
    /// candidates the best W - finished by raw log-probability are kept (ties: the earlier hypothesis, then the lower token id);
    /// those ending in end-of-sequence finish with raw / length^alpha (length: generated tokens, end-of-sequence included).
    /// A row stops when W hypotheses have finished; after the maximum length its alive ones finish unterminated.
    /// </summary>
    private void Beam(int rows, int sourceLength, GeneratedRow[] results, string what)
    {
        int w = _width, v = _graph.Vocabulary, stride = _config.MaxNewTokens + 1;
        double alpha = _config.LengthPenalty;
        var alive = new int[rows];
        var finished = new List<(int[] Tokens, double Score, bool Done)>[rows];
        var logp = new double[v];
        var selScore = new double[w];
        var selFlat = new int[w];
        var parents = new int[_slots];
        var newTokens = new int[_slots];
        var newRaw = new double[_slots];
        var historyCopy = new int[_history.Length];
        for (int r = 0; r < rows; r++)
        {
            alive[r] = 1;
            finished[r] = new();
            _raw[r * w] = 0;
        }

        Array.Fill(_tokens, _graph.BosId, 0, rows * w);
        int remaining = rows, t = 0;
        for (; t < _config.MaxNewTokens && remaining > 0; t++)
        {
            int offset = Step(rows * w, t, sourceLength, what);
            bool reorder = false;
            for (int r = 0; r < rows; r++)
            {
                int k = alive[r];
                if (k == 0)
                {
                    continue;
                }

                int want = w - finished[r].Count, selected = 0;
                for (int j = 0; j < k; j++)
                {
                    int slot = r * w + j;
                    LogSoftmax(offset, slot, logp);
                    for (int x = 0; x < v; x++)
                    {
                        double c = _raw[slot] + logp[x];
                        if (selected == want && !(c > selScore[want - 1]))
                        {
                            continue;
                        }

                        int pos = selected < want ? selected++ : want - 1;
                        while (pos > 0 && c > selScore[pos - 1])
                        {
                            selScore[pos] = selScore[pos - 1];
                            selFlat[pos] = selFlat[pos - 1];
                            pos--;
                        }

                        selScore[pos] = c;
                        selFlat[pos] = j * v + x;
                    }
                }

                int kept = 0;
                for (int i = 0; i < selected; i++)
                {
                    int parent = Math.DivRem(selFlat[i], v, out int token);
                    int parentSlot = r * w + parent;
                    if (token == _graph.EosId)
                    {
                        finished[r].Add((_history.AsSpan(parentSlot * stride, t).ToArray(), selScore[i] / Math.Pow(t + 1, alpha), true));
                    }
                    else
                    {
                        parents[r * w + kept] = parentSlot;
                        newTokens[r * w + kept] = token;
                        newRaw[r * w + kept] = selScore[i];
                        kept++;
                    }
                }

                alive[r] = kept;
                reorder = true;
                if (kept == 0)
                {
                    remaining--;
                }
            }

            if (!reorder)
            {
                break;
            }

            // The new hypotheses take their parents' histories and caches (positions 0..t are filled after this step).
            Array.Copy(_history, historyCopy, _history.Length);
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < alive[r]; j++)
                {
                    int slot = r * w + j, parent = parents[slot];
                    Array.Copy(historyCopy, parent * stride, _history, slot * stride, t);
                    _history[slot * stride + t] = newTokens[slot];
                    _raw[slot] = newRaw[slot];
                    _tokens[slot] = newTokens[slot];
                }

                for (int j = alive[r]; j < w; j++)
                {
                    _tokens[r * w + j] = _graph.PadId;
                    parents[r * w + j] = r * w + j;
                }
            }

            if (_config.UseCache)
            {
                Reorder(parents, rows * w, _promptLength + t);
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < alive[r]; j++)
            {
                int slot = r * w + j;
                finished[r].Add((_history.AsSpan(slot * stride, t).ToArray(), _raw[slot] / Math.Pow(t, alpha), false));
            }

            // Best first; a stable sort keeps the earlier finished first on ties.
            var order = finished[r];
            var sorted = new List<(int[] Tokens, double Score, bool Done)>(order);
            var index = new int[sorted.Count];
            for (int i = 0; i < index.Length; i++)
            {
                index[i] = i;
            }

            Array.Sort(index, (a, b) => order[a].Score != order[b].Score ? order[b].Score.CompareTo(order[a].Score) : a.CompareTo(b));
            for (int i = 0; i < index.Length && i < _config.NBest; i++)
            {
                var (tokens, s, d) = order[index[i]];
                results[r].Add(tokens, s, d);
            }
        }
    }

    /// <summary>Gathers the cache's slots at positions [0, <paramref name="positions"/>): slot s takes slot <paramref name="parents"/>[s]'s keys and values.</summary>
    private void Reorder(int[] parents, int slots, int positions)
    {
        int row = _graph.Heads * _graph.HeadDim;
        foreach (var cache in _cache)
        {
            for (int p = 0; p < positions; p++)
            {
                int start = p * slots * row;
                Array.Copy(cache, start, _scratch, 0, slots * row);
                for (int s = 0; s < slots; s++)
                {
                    if (parents[s] != s)
                    {
                        Array.Copy(_scratch, parents[s] * row, cache, start + s * row, row);
                    }
                }
            }
        }
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
