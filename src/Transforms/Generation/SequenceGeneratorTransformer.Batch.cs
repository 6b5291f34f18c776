using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Generation;

public sealed partial class SequenceGeneratorTransformer
{
    /// <summary>
    /// The rows of one batch: each text (or vector of token ids) is turned into source ids as it is added (and refused there when
    /// it cannot be read); an empty one generates nothing with an encoder-decoder and continues start-of-sequence alone with a
    /// decoder-only model (a decoder-only prompt is not trimmed: its spaces are part of it); on
    /// <see cref="Run"/> the non-empty rows are generated together by one <see cref="SequenceGenerator"/>, and the getters read the
    /// results of each slot.
    /// </summary>
    private sealed class Batch : IBatch
    {
        private readonly SequenceGeneratorTransformer _parent;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
        private readonly ValueGetter<VBuffer<int>>? _ids32;
        private readonly ValueGetter<VBuffer<long>>? _ids64;
        private readonly SequenceGenerator _generator;
        private readonly int[]?[] _sources;
        private readonly ulong[] _seeds;
        private readonly GeneratedRow[] _results;
        private readonly List<int[]> _runSources = new();
        private readonly List<ulong> _runSeeds = new();
        private readonly List<int> _runSlots = new();
        private readonly GeneratedRow[] _runResults;
        private readonly long[] _positions;
        private ReadOnlyMemory<char> _value;
        private VBuffer<int> _value32;
        private VBuffer<long> _value64;
        private long[] _idBuffer = [];

        public Batch(SequenceGeneratorTransformer parent, DataViewRow source, int capacity)
        {
            _parent = parent;
            Capacity = capacity;
            var column = source.Schema[parent.Config.InputColumnName];
            if (column.Type is TextDataViewType)
            {
                _text = source.GetGetter<ReadOnlyMemory<char>>(column);
            }
            else if (column.Type.GetItemType() == NumberDataViewType.Int32)
            {
                _ids32 = source.GetGetter<VBuffer<int>>(column);
            }
            else
            {
                _ids64 = source.GetGetter<VBuffer<long>>(column);
            }

            _sources = new int[capacity][];
            _seeds = new ulong[capacity];
            _positions = new long[capacity];
            _results = new GeneratedRow[capacity];
            _runResults = new GeneratedRow[capacity];
            for (int i = 0; i < capacity; i++)
            {
                _results[i] = new GeneratedRow();
            }

            // Last: nothing after it may throw, or its session leases would never be released.
            _generator = new SequenceGenerator(parent._graph, parent.Config, parent._encoder, parent._decoder, capacity);
        }

        public int Capacity { get; }

        public int Count { get; private set; }

        public void Clear() => Count = 0;

        public void Add(long position) => Add(position, new DataViewRowId((ulong)position, 0));

        public void Add(long position, DataViewRowId id)
        {
            _sources[Count] = Read(position);
            _seeds[Count] = SplitMix64.RowSeed(_parent.Config.Seed, id.High, id.Low);
            _positions[Count] = position;
            Count++;
        }

        private int[]? Read(long position)
        {
            if (_text != null)
            {
                _text(ref _value);
                var text = _parent.HasEncoder ? _value.Span.Trim() : _value.Span;
                return text.IsEmpty && _parent.HasEncoder ? null : _parent.EncodeSource(text, position);
            }

            int length;
            if (_ids32 != null)
            {
                _ids32(ref _value32);
                length = _value32.Length;
                Array.Resize(ref _idBuffer, Math.Max(_idBuffer.Length, length));
                int i = 0;
                foreach (int id in _value32.DenseValues())
                {
                    _idBuffer[i++] = id;
                }
            }
            else
            {
                _ids64!(ref _value64);
                length = _value64.Length;
                Array.Resize(ref _idBuffer, Math.Max(_idBuffer.Length, length));
                _value64.CopyTo(_idBuffer);
            }

            return length == 0 && _parent.HasEncoder ? null : _parent.EncodeIds(_idBuffer.AsSpan(0, length), position);
        }

        public void Run()
        {
            _runSources.Clear();
            _runSeeds.Clear();
            _runSlots.Clear();
            for (int i = 0; i < Count; i++)
            {
                if (_sources[i] is { } s)
                {
                    _runResults[_runSlots.Count] = _results[i];
                    _runSources.Add(s);
                    _runSeeds.Add(_seeds[i]);
                    _runSlots.Add(i);
                }
                else
                {
                    _results[i].Clear();
                    _results[i].Add([], 0, true);
                }
            }

            if (_runSlots.Count > 0)
            {
                string what = $"the rows at positions {_positions[0]} to {_positions[Count - 1]}";
                _generator.Generate(_runSources, _runSeeds, _runResults, what);
            }
        }

        public Delegate GetGetter(int outputIndex, Func<int> slot)
        {
            var c = _parent.Config;
            string name = _parent._columns[outputIndex].Name;
            if (name == c.TextColumnName)
            {
                return (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> dst) => dst = _parent.Decode(_results[slot()].Tokens[0]).AsMemory());
            }

            if (name == c.TokensColumnName)
            {
                return (ValueGetter<VBuffer<int>>)((ref VBuffer<int> dst) =>
                {
                    var tokens = _results[slot()].Tokens[0];
                    var editor = VBufferEditor.Create(ref dst, tokens.Length);
                    tokens.CopyTo(editor.Values);
                    dst = editor.Commit();
                });
            }

            if (name == c.ScoreColumnName)
            {
                return (ValueGetter<float>)((ref float dst) => dst = (float)_results[slot()].Scores[0]);
            }

            if (name == c.FinishedColumnName)
            {
                return (ValueGetter<bool>)((ref bool dst) => dst = _results[slot()].Finished[0]);
            }

            if (name == c.NBestTextsColumnName)
            {
                return (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) =>
                {
                    var row = _results[slot()];
                    var editor = VBufferEditor.Create(ref dst, c.NBest);
                    for (int i = 0; i < c.NBest; i++)
                    {
                        editor.Values[i] = i < row.Tokens.Count ? _parent.Decode(row.Tokens[i]).AsMemory() : ReadOnlyMemory<char>.Empty;
                    }

                    dst = editor.Commit();
                });
            }

            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
            {
                var row = _results[slot()];
                var editor = VBufferEditor.Create(ref dst, c.NBest);
                for (int i = 0; i < c.NBest; i++)
                {
                    editor.Values[i] = i < row.Scores.Count ? (float)row.Scores[i] : float.NaN;
                }

                dst = editor.Commit();
            });
        }

        public void Dispose() => _generator.Dispose();
    }
}
