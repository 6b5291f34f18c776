using System;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// Keeps the values of one pass-through column for the rows of a batch: by the time a batched row is served
/// the upstream cursor has moved on, and upstream getters reuse their buffers, so vectors are deep-copied.
/// </summary>
internal abstract class ColumnSlotCache
{
    public static ColumnSlotCache Create(DataViewRow source, DataViewSchema.Column column, int capacity)
    {
        Type raw = column.Type.RawType;
        Type cache = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
            ? typeof(VectorCache<>).MakeGenericType(raw.GetGenericArguments()[0])
            : typeof(ValueCache<>).MakeGenericType(raw);
        return (ColumnSlotCache)Activator.CreateInstance(cache, source, column, capacity)!;
    }

    public abstract void Fill(int slot);

    public abstract Delegate MakeGetter(Func<int> slot);

    private sealed class ValueCache<T> : ColumnSlotCache
    {
        private readonly ValueGetter<T> _getter;
        private readonly T[] _values;

        public ValueCache(DataViewRow source, DataViewSchema.Column column, int capacity)
        {
            _getter = source.GetGetter<T>(column);
            _values = new T[capacity];
        }

        public override void Fill(int slot) => _getter(ref _values[slot]);

        public override Delegate MakeGetter(Func<int> slot) => (ValueGetter<T>)((ref T dst) => dst = _values[slot()]);
    }

    private sealed class VectorCache<T> : ColumnSlotCache
    {
        private readonly ValueGetter<VBuffer<T>> _getter;
        private readonly VBuffer<T>[] _values;
        private VBuffer<T> _scratch;

        public VectorCache(DataViewRow source, DataViewSchema.Column column, int capacity)
        {
            _getter = source.GetGetter<VBuffer<T>>(column);
            _values = new VBuffer<T>[capacity];
        }

        public override void Fill(int slot)
        {
            _getter(ref _scratch);
            _scratch.CopyTo(ref _values[slot]);
        }

        public override Delegate MakeGetter(Func<int> slot) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) => _values[slot()].CopyTo(ref dst));
    }
}
