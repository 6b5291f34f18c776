using System;

namespace MlNotes.Transforms.Generation;

internal sealed partial class SequenceGenerator
{
    /// <summary>
    /// Takes finished slots out of the batch: slot i of the <paramref name="count"/> that stay takes the state of slot
    /// <paramref name="keep"/>[i] (ascending) of the <paramref name="oldSlots"/>: its first <paramref name="positions"/> cached
    /// keys and values, its encoder states or cross-attention keys and values, its masks, prompt, padding, history, next token and
    /// raw score. The cache is sequence-major ([position, slot, heads, head_dim] with the step's slot count as the stride), so it
    /// is laid out again for the smaller count; as i &lt;= keep[i] and the new stride is smaller, every copy moves data to an
    /// offset no greater than where it was read, in order, so the work is done in place.
    /// </summary>
    private void CompactSlots(int[] keep, int count, int oldSlots, int positions, int sourceLength)
    {
        if (_config.UseCache)
        {
            int row = _graph.Heads * _graph.HeadDim;
            foreach (var cache in _cache)
            {
                for (int p = 0; p < positions; p++)
                {
                    for (int i = 0; i < count; i++)
                    {
                        Array.Copy(cache, (p * oldSlots + keep[i]) * row, cache, (p * count + i) * row, row);
                    }
                }
            }
        }

        if (_graph.CrossCached)
        {
            int rowFloats = _graph.Heads * sourceLength * _graph.HeadDim;
            foreach (var cross in _cross)
            {
                Move(cross, rowFloats, keep, count);
            }
        }
        else if (_graph.HasEncoder)
        {
            Move(_memory, sourceLength * _graph.ModelDim, keep, count);
        }

        if (_graph.HasEncoder)
        {
            Move(_memoryMask, sourceLength, keep, count);
        }

        Move(_prompt, _promptLength, keep, count);
        Move(_pad, 1, keep, count);
        Move(_history, _config.MaxNewTokens + 1, keep, count);
        Move(_tokens, 1, keep, count);
        Move(_raw, 1, keep, count);
    }

    /// <summary>Moves block keep[i] (of <paramref name="length"/> elements) to block i, in ascending order (keep[i] &gt;= i).</summary>
    private static void Move<T>(T[] array, int length, int[] keep, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (keep[i] != i)
            {
                Array.Copy(array, keep[i] * length, array, i * length, length);
            }
        }
    }
}
