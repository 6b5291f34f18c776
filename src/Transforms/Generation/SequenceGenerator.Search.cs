using System;
using System.Collections.Generic;

namespace MlNotes.Transforms.Generation;

internal sealed partial class SequenceGenerator
{
    /// <summary>
    /// Greedy search (the arg-max token, the lowest id on a tie) or sampling; score = the sum of the model's log-softmax of the
    /// chosen tokens (at temperature 1, end-of-sequence included). A row that ends leaves the batch: once a quarter of the
    /// slots are finished they are compacted away (<see cref="CompactSlots"/>), so later steps run only the rows still going.
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
        var rowOf = new int[rows]; // slot -> row
        var keep = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            random[r] = new SplitMix64(seeds[r]);
            _tokens[r] = _graph.BosId;
            rowOf[r] = r;
        }

        int slots = rows;
        for (int t = 0; t < _config.MaxNewTokens && slots > 0; t++)
        {
            int offset = Step(slots, t, sourceLength, what), kept = 0;
            for (int s = 0; s < slots; s++)
            {
                int r = rowOf[s];
                if (!done[r])
                {
                    LogSoftmax(offset, s, logp);
                    int next = sampler != null
                        ? sampler.Sample(_logits.AsSpan(offset + s * LogitStride, v), ref random[r])
                        : ArgMax(logp);
                    score[r] += logp[next];
                    if (next == _graph.EosId)
                    {
                        done[r] = true;
                        results[r].Add(_history.AsSpan(s * stride, lengths[r]).ToArray(), score[r], true);
                    }
                    else
                    {
                        _history[s * stride + lengths[r]++] = next;
                        _tokens[s] = next;
                        keep[kept++] = s;
                        continue;
                    }
                }

                _tokens[s] = _graph.PadId;
            }

            if (kept < slots && (slots - kept) * 4 >= slots)
            {
                CompactSlots(keep, kept, slots, _promptLength + t, sourceLength);
                for (int i = 0; i < kept; i++)
                {
                    rowOf[i] = rowOf[keep[i]];
                }

                slots = kept;
            }
        }

        for (int s = 0; s < slots; s++)
        {
            int r = rowOf[s];
            if (!done[r])
            {
                results[r].Add(_history.AsSpan(s * stride, lengths[r]).ToArray(), score[r], false);
            }
        }
    }

    /// <summary>
    /// Beam search of width W per row (g2p_build.py's reference): every alive hypothesis is extended by every token; of all the
    /// candidates the best W - finished by raw log-probability are kept (ties: the earlier hypothesis, then the lower token id);
    /// those ending in end-of-sequence finish with raw / length^alpha (length: generated tokens, end-of-sequence included).
    /// A row stops when W hypotheses have finished; after the maximum length its alive ones finish unterminated. The W slots of
    /// a row that has stopped leave the batch once a quarter of the slots belong to stopped rows (<see cref="CompactSlots"/>).
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
        var rowOf = new int[rows]; // group of W slots -> row
        var liveRows = new int[rows];
        var keep = new int[_slots];
        for (int r = 0; r < rows; r++)
        {
            alive[r] = 1;
            finished[r] = new();
            _raw[r * w] = 0;
            rowOf[r] = r;
        }

        Array.Fill(_tokens, _graph.BosId, 0, rows * w);
        int remaining = rows, groups = rows, t = 0;
        for (; t < _config.MaxNewTokens && remaining > 0; t++)
        {
            int offset = Step(groups * w, t, sourceLength, what);
            bool reorder = false;
            for (int g = 0; g < groups; g++)
            {
                int r = rowOf[g], k = alive[r];
                if (k == 0)
                {
                    continue;
                }

                int want = w - finished[r].Count, selected = 0;
                for (int j = 0; j < k; j++)
                {
                    int slot = g * w + j;
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
                    int parentSlot = g * w + parent;
                    if (token == _graph.EosId)
                    {
                        finished[r].Add((_history.AsSpan(parentSlot * stride, t).ToArray(), selScore[i] / Math.Pow(t + 1, alpha), true));
                    }
                    else
                    {
                        parents[g * w + kept] = parentSlot;
                        newTokens[g * w + kept] = token;
                        newRaw[g * w + kept] = selScore[i];
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
            Array.Copy(_history, historyCopy, groups * w * stride);
            int live = 0;
            for (int g = 0; g < groups; g++)
            {
                int r = rowOf[g];
                for (int j = 0; j < alive[r]; j++)
                {
                    int slot = g * w + j, parent = parents[slot];
                    Array.Copy(historyCopy, parent * stride, _history, slot * stride, t);
                    _history[slot * stride + t] = newTokens[slot];
                    _raw[slot] = newRaw[slot];
                    _tokens[slot] = newTokens[slot];
                }

                for (int j = alive[r]; j < w; j++)
                {
                    _tokens[g * w + j] = _graph.PadId;
                    parents[g * w + j] = g * w + j;
                }

                if (alive[r] > 0)
                {
                    for (int j = 0; j < w; j++)
                    {
                        keep[live * w + j] = g * w + j;
                    }

                    liveRows[live++] = r;
                }
            }

            if (_config.UseCache)
            {
                Reorder(parents, groups * w, _promptLength + t);
            }

            if (live < groups && (groups - live) * 4 >= groups)
            {
                CompactSlots(keep, live * w, groups * w, _promptLength + t, sourceLength);
                Array.Copy(liveRows, rowOf, live);
                groups = live;
            }
        }

        for (int g = 0; g < groups; g++)
        {
            int r = rowOf[g];
            for (int j = 0; j < alive[r]; j++)
            {
                int slot = g * w + j;
                finished[r].Add((_history.AsSpan(slot * stride, t).ToArray(), _raw[slot] / Math.Pow(t, alpha), false));
            }
        }

        for (int r = 0; r < rows; r++)
        {
            // Best first; a stable sort keeps the earlier finished first on ties.
            var order = finished[r];
            var index = new int[order.Count];
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
