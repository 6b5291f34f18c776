using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNotes.Transforms.Onnx;

namespace MlNotes.Transforms.Vision;

/// <summary>
/// What the image encoder's and classifier's batches share: one ONNX Runtime run over images preprocessed straight into the
/// input tensor, and a failed flag per slot (an unreadable image, with <c>ContinueOnError</c>, counted once per read).
/// </summary>
internal abstract class ImageBatch : IBatch
{
    private readonly ImageMapper _mapper;
    private readonly ImageSlotFiller _images;
    private readonly bool[] _failed;
    private OnnxBatch? _onnx;

    private protected ImageBatch(ImageMapper mapper, DataViewRow source, ImagePreprocessingSettings preprocessing, bool continueOnError, int capacity)
    {
        _mapper = mapper;
        _failed = new bool[capacity];
        _images = mapper.Input.MakeFiller(source, preprocessing, continueOnError);
    }

    public int Capacity => Onnx.Capacity;

    public int Count => Onnx.Count;

    /// <summary>The batch's run: its input the images, its outputs those <see cref="Open"/> was given.</summary>
    private protected OnnxBatch Onnx => _onnx!;

    public void Clear() => Onnx.Clear();

    public void Add(long position) => Onnx.Add(position, Onnx.Count);

    public abstract void Run();

    public abstract Delegate GetGetter(int outputIndex, Func<int> slot);

    public void Dispose() => _onnx?.Dispose();

    public bool Failed(int slot) => _failed[slot];

    /// <summary>The error flag column (with <c>ContinueOnError</c>): true for a row whose image could not be read; it needs no graph output.</summary>
    public static OutputColumn<TBatch, TNeeds> ErrorColumn<TBatch, TNeeds>(string name)
        where TBatch : ImageBatch
        where TNeeds : struct, Enum
        => new(new(name, BooleanDataViewType.Instance), default, (b, slot) => (ValueGetter<bool>)((ref bool dst) => dst = b.Failed(slot())));

    /// <summary>
    /// Opens the run: the derived constructor's last step, since nothing after it may throw (its session reference would never
    /// be released).
    /// </summary>
    private protected void Open(OnnxModel model, OnnxColumnBinding image, OnnxColumnBinding[] outputs, bool[] active, int capacity)
        => _onnx = new OnnxBatch(model, new[] { OnnxBatch.Computed<float>(image, Fill, capacity) }, outputs, active, capacity);

    private void Fill(Span<float> destination, long position, int slot)
    {
        bool read = _images.TryFill(destination, position);
        _failed[slot] = !read;
        if (!read)
        {
            _mapper.CountError();
        }
    }
}
