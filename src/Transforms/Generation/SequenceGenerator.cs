using System;
using System.Collections.Generic;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Generation;

/// <summary>What one row generated: its hypotheses best first (one unless n-best), their scores, and whether each ended with end-of-sequence.</summary>
internal sealed class GeneratedRow
{
    public List<int[]> Tokens { get; } = new();

    public List<double> Scores { get; } = new();

    public List<bool> Finished { get; } = new();

    public void Clear()
    {
        Tokens.Clear();
        Scores.Clear();
        Finished.Clear();
    }

    public void Add(int[] tokens, double score, bool finished)
    {
        Tokens.Add(tokens);
        Scores.Add(score);
        Finished.Add(finished);
    }
}

/// <summary>
/// Generates the rows of a batch together through an encoder graph (once per batch) and a decoder graph (once per step), with the
/// decoder's keys and values kept in preallocated sequence-major buffers [max positions, rows x beams, heads, head_dim]: each step
/// reads the prefix of past positions in place and ONNX Runtime writes the step's keys and values straight after it, so the
/// cache grows without any reallocation. Rows stop on their own: a finished row's slots are fed padding and their outputs ignored
/// until a quarter of the batch has finished, and then leave it (<see cref="CompactSlots"/>): later steps run only the rows still going.
/// One per cursor; the buffers are sized once for the batch capacity.
/// </summary>
internal sealed partial class SequenceGenerator : IDisposable
{
    private readonly GenerationGraph _graph;
    private readonly GenerationConfig _config;
    private readonly OnnxBatch.TensorRun? _encoderRun;
    private readonly OnnxBatch.TensorRun _decoderRun;
    private readonly int _width;
    private readonly int _slots;
    private readonly int _maxPositions;
    private readonly int _block; // floats per position of one layer's keys: slots x heads x head_dim
    private readonly float[][] _cache;
    private readonly float[] _logits;
    private readonly long[] _tokens;
    private readonly long[] _positions;
    private readonly long[] _selfMask;
    private readonly long[] _sourceIds;
    private readonly long[] _sourceMask;
    private readonly float[] _memory;
    private readonly float[][] _cross; // contract 2: per layer the cross-attention keys, then values, [slot, heads, source, head_dim]
    private readonly float[][] _crossRows; // what the encoder writes, [row, heads, source, head_dim]: _cross itself when one slot a row
    private readonly long[] _memoryMask;
    private readonly float[] _scratch;
    private readonly int[] _history; // [slot, step]: the generated tokens of each hypothesis
    private readonly double[] _raw;
    private readonly long[] _prompt; // [slot, position]: the prompt of each slot, left-padded to the batch's longest
    private readonly int[] _pad; // padding positions before each slot's prompt (decoder-only)
    private int _promptLength; // tokens of the first step: the longest prompt (decoder-only), or 1 (start-of-sequence)

    public SequenceGenerator(GenerationGraph graph, GenerationConfig config, OnnxModel? encoder, OnnxModel decoder, int capacity)
    {
        _graph = graph;
        _config = config;
        _width = config.Strategy == GenerationStrategy.Beam ? config.BeamWidth : 1;
        _slots = capacity * _width;
        _maxPositions = config.MaxNewTokens + graph.MaxPromptLength + 1;
        _block = _slots * graph.Heads * graph.HeadDim;
        var cacheLength = checked(_maxPositions * _block);
        _cache = new float[2 * graph.Layers][];
        for (int i = 0; i < _cache.Length; i++)
        {
            _cache[i] = new float[cacheLength];
        }

        int stepPositions = config.UseCache ? Math.Max(1, graph.MaxPromptLength) : _maxPositions;
        _logits = new float[checked(_slots * stepPositions * graph.Vocabulary)];
        _tokens = new long[_slots * _maxPositions];
        _positions = new long[_slots * _maxPositions];
        _selfMask = new long[_slots * _maxPositions];
        Array.Fill(_selfMask, 1L);
        _scratch = new float[config.UseCache ? _block : cacheLength];
        _history = new int[_slots * (config.MaxNewTokens + 1)];
        _raw = new double[_slots];
        _prompt = new long[_slots * Math.Max(1, graph.MaxPromptLength)];
        _pad = new int[_slots];
        _cross = _crossRows = [];
        if (graph.HasEncoder)
        {
            _sourceIds = new long[capacity * graph.MaxSourceLength];
            _sourceMask = new long[capacity * graph.MaxSourceLength];
            _memory = graph.CrossCached ? [] : new float[checked(_slots * graph.MaxSourceLength * graph.ModelDim)];
            _memoryMask = new long[_slots * graph.MaxSourceLength];
            if (graph.CrossCached)
            {
                int perSlot = graph.Heads * graph.MaxSourceLength * graph.HeadDim;
                _cross = new float[2 * graph.Layers][];
                _crossRows = _width == 1 ? _cross : new float[2 * graph.Layers][];
                for (int i = 0; i < _cross.Length; i++)
                {
                    _cross[i] = new float[checked(_slots * perSlot)];
                    if (_width > 1)
                    {
                        _crossRows[i] = new float[checked(capacity * perSlot)];
                    }
                }
            }
        }
        else
        {
            _sourceIds = _sourceMask = _memoryMask = [];
            _memory = [];
        }

        try
        {
            _encoderRun = encoder != null ? new OnnxBatch.TensorRun(encoder, graph.EncoderInputs, graph.EncoderOutputs) : null;
            _decoderRun = new OnnxBatch.TensorRun(decoder, graph.DecoderInputs, graph.DecoderOutputs);
        }
        catch
        {
            _encoderRun?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Generates for <paramref name="sources"/> (token ids: end-of-sequence last for an encoder-decoder, start-of-sequence first
    /// for a decoder-only prompt), row i with the random stream <paramref name="seeds"/>[i].
    /// </summary>
    public void Generate(IReadOnlyList<int[]> sources, IReadOnlyList<ulong> seeds, GeneratedRow[] results, string what)
    {
        int rows = sources.Count;
        for (int r = 0; r < rows; r++)
        {
            results[r].Clear();
        }

        if (rows == 0)
        {
            return;
        }

        int sourceLength = _graph.HasEncoder ? Encode(sources, what) : 0;
        SetPrompts(sources);
        if (_config.Strategy == GenerationStrategy.Beam)
        {
            Beam(rows, sourceLength, results, what);
        }
        else
        {
            GreedyOrSample(rows, sourceLength, seeds, results, what);
        }
    }

    public void Dispose()
    {
        _encoderRun?.Dispose();
        _decoderRun.Dispose();
    }

    /// <summary>Runs the encoder on the padded sources and copies each row's states to its beams' slots; returns the padded length.</summary>
    private int Encode(IReadOnlyList<int[]> sources, string what)
    {
        int rows = sources.Count, length = 0;
        foreach (var s in sources)
        {
            length = Math.Max(length, s.Length);
        }

        for (int r = 0; r < rows; r++)
        {
            var s = sources[r];
            for (int j = 0; j < length; j++)
            {
                _sourceIds[r * length + j] = j < s.Length ? s[j] : _graph.PadId;
                _sourceMask[r * length + j] = j < s.Length ? 1 : 0;
            }
        }

        _encoderRun!.Input(0, _sourceIds, 0, [rows, length]);
        _encoderRun.Input(1, _sourceMask, 0, [rows, length]);
        if (_graph.CrossCached)
        {
            EncodeCross(rows, length, what);
            return length;
        }

        int d = _graph.ModelDim, rowFloats = length * d;
        // The encoder writes row r at r x width: the beams of a row are filled from it below.
        var encoded = _width == 1 ? _memory : _scratch.Length >= rows * rowFloats ? _scratch : new float[rows * rowFloats];
        _encoderRun.Output(0, encoded, 0, [rows, length, d]);
        _encoderRun.Run(what);
        for (int r = rows - 1; r >= 0; r--)
        {
            for (int b = _width - 1; b >= 0; b--)
            {
                int slot = r * _width + b;
                if (_width > 1)
                {
                    Array.Copy(encoded, r * rowFloats, _memory, slot * rowFloats, rowFloats);
                }

                Array.Copy(_sourceMask, r * length, _memoryMask, slot * length, length);
            }
        }

        return length;
    }

    /// <summary>
    /// Contract 2: the encoder writes every layer's cross-attention keys and values of its rows, once for the batch; a beam
    /// search copies each row's to its beams' slots here, once, since every hypothesis of a row attends to the same source.
    /// </summary>
    private void EncodeCross(int rows, int length, string what)
    {
        int h = _graph.Heads, dk = _graph.HeadDim, rowFloats = h * length * dk;
        for (int i = 0; i < _crossRows.Length; i++)
        {
            _encoderRun!.Output(i, _crossRows[i], 0, [rows, h, length, dk]);
        }

        _encoderRun!.Run(what);
        for (int r = rows - 1; r >= 0; r--)
        {
            for (int b = _width - 1; b >= 0; b--)
            {
                int slot = r * _width + b;
                if (_width > 1)
                {
                    for (int i = 0; i < _cross.Length; i++)
                    {
                        Array.Copy(_crossRows[i], r * rowFloats, _cross[i], slot * rowFloats, rowFloats);
                    }
                }

                Array.Copy(_sourceMask, r * length, _memoryMask, slot * length, length);
            }
        }
    }

    /// <summary>
    /// The prompt of every slot: start-of-sequence (encoder-decoder), or each row's prompt left-padded to the longest of the
    /// batch (decoder-only; the padding is masked out of attention and the positions start at each prompt's first token).
    /// </summary>
    private void SetPrompts(IReadOnlyList<int[]> sources)
    {
        if (_graph.HasEncoder)
        {
            _promptLength = 1;
            Array.Fill(_prompt, _graph.BosId, 0, _slots);
            Array.Clear(_pad);
            return;
        }

        int length = 1;
        foreach (var s in sources)
        {
            length = Math.Max(length, s.Length);
        }

        _promptLength = length;
        for (int r = 0; r < sources.Count; r++)
        {
            var s = sources[r];
            for (int b = 0; b < _width; b++)
            {
                int slot = r * _width + b, pad = length - s.Length;
                _pad[slot] = pad;
                for (int j = 0; j < length; j++)
                {
                    _prompt[slot * length + j] = j < pad ? _graph.PadId : s[j - pad];
                }
            }
        }
    }

    /// <summary>
    /// One decoder step for <paramref name="slots"/> slots at step <paramref name="step"/>. Cached: step 0 feeds the prompts
    /// (past 0), a later step the token of each slot in <see cref="_tokens"/>[slot]. Uncached: the prompt and the whole
    /// generated sequence of <see cref="_history"/> every step. Returns the offset of slot 0's logits in <see cref="_logits"/>;
    /// slot s's follow at s x <see cref="LogitStride"/>.
    /// </summary>
    private int Step(int slots, int step, int sourceLength, string what)
    {
        var run = _decoderRun;
        int h = _graph.Heads, dk = _graph.HeadDim, v = _graph.Vocabulary, p = _promptLength, stride = _config.MaxNewTokens + 1;
        bool cachedStep = _config.UseCache && step > 0;
        int n = cachedStep ? 1 : _config.UseCache ? p : p + step;
        int past = cachedStep ? p + step - 1 : 0;
        if (cachedStep)
        {
            for (int s = 0; s < slots; s++)
            {
                _positions[s] = past - _pad[s];
            }
        }
        else
        {
            for (int s = 0; s < slots; s++)
            {
                for (int j = 0; j < n; j++)
                {
                    _tokens[s * n + j] = j < p ? _prompt[s * p + j] : _history[s * stride + j - p];
                    _positions[s * n + j] = Math.Max(0, j - _pad[s]);
                }
            }
        }

        int total = past + n;
        if (!_graph.HasEncoder)
        {
            for (int s = 0; s < slots; s++)
            {
                _selfMask.AsSpan(s * total, _pad[s]).Clear();
                _selfMask.AsSpan(s * total + _pad[s], total - _pad[s]).Fill(1L);
            }
        }

        run.Input(0, _tokens, 0, [slots, n]);
        run.Input(1, _positions, 0, [slots, n]);
        run.Input(2, _selfMask, 0, [slots, total]);
        int next = 3;
        if (_graph.CrossCached)
        {
            run.Input(3, _memoryMask, 0, [slots, sourceLength]);
            for (int i = 0; i < _cross.Length; i++)
            {
                run.Input(4 + i, _cross[i], 0, [slots, h, sourceLength, dk]);
            }

            next = 4 + _cross.Length;
        }
        else if (_graph.HasEncoder)
        {
            run.Input(3, _memory, 0, [slots, sourceLength, _graph.ModelDim]);
            run.Input(4, _memoryMask, 0, [slots, sourceLength]);
            next = 5;
        }

        long block = (long)slots * h * dk;
        for (int i = 0; i < _cache.Length; i++)
        {
            run.Input(next + i, _cache[i], 0, [past, slots, h, dk]);
        }

        run.Output(0, _logits, 0, [slots, n, v]);
        for (int i = 0; i < _cache.Length; i++)
        {
            // Cached: this step's keys land at position `past` of the cache itself. Uncached: they are recomputed every step.
            if (_config.UseCache)
            {
                run.Output(1 + i, _cache[i], checked((int)(past * block)), [n, slots, h, dk]);
            }
            else
            {
                run.Output(1 + i, _scratch, 0, [n, slots, h, dk]);
            }
        }

        run.Run(what);
        LogitStride = n * v;
        return (n - 1) * v;
    }

    private int LogitStride { get; set; }

    /// <summary>log-softmax of slot <paramref name="slot"/>'s logits into <paramref name="destination"/>, in double.</summary>
    private void LogSoftmax(int offset, int slot, Span<double> destination)
    {
        var logits = _logits.AsSpan(offset + slot * LogitStride, _graph.Vocabulary);
        float max = float.NegativeInfinity;
        foreach (float x in logits)
        {
            max = Math.Max(max, x);
        }

        double sum = 0;
        foreach (float x in logits)
        {
            sum += Math.Exp(x - max);
        }

        double log = max + Math.Log(sum);
        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = logits[i] - log;
        }
    }
}
