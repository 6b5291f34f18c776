using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// The two columns every classifier adds, shaped so that <c>MulticlassClassification.Evaluate</c> reads them directly:
/// <c>Score</c> (softmax probabilities, the class names as slot names, marked as a multiclass score) and <c>PredictedLabel</c>
/// (a key type whose key values are the class names).
/// </summary>
internal static class ClassificationOutputs
{
    public static void AddColumns(DataViewSchema.Builder builder, string scoreColumn, string labelColumn, ReadOnlyMemory<char>[] classNames)
    {
        foreach (var column in Columns(scoreColumn, labelColumn, classNames))
        {
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        }
    }

    /// <summary>The <c>Score</c> and <c>PredictedLabel</c> columns, in that order, with their annotations.</summary>
    public static DataViewSchema.DetachedColumn[] Columns(string scoreColumn, string labelColumn, ReadOnlyMemory<char>[] classNames)
    {
        int classes = classNames.Length;
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> names = (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(classes, classNames.ToArray());
        var score = new DataViewSchema.Annotations.Builder();
        score.AddSlotNames(classes, names);
        score.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification.AsMemory());
        score.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreValueKind.Score.AsMemory());
        var key = new DataViewSchema.Annotations.Builder();
        key.AddKeyValues(classes, TextDataViewType.Instance, names);
        return new[]
        {
            new DataViewSchema.DetachedColumn(scoreColumn, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations()),
            new DataViewSchema.DetachedColumn(labelColumn, new KeyDataViewType(typeof(uint), classes), key.ToAnnotations()),
        };
    }

    /// <summary>Softmax with the maximum subtracted first, so large logits do not overflow.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }

        float sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] = MathF.Exp(logits[i] - max);
            sum += probabilities[i];
        }

        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] /= sum;
        }
    }

    /// <summary>log sum exp(logits), stable: the maximum is taken out first and the sum is accumulated in double; NaN when a logit is.</summary>
    public static float LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            if (float.IsNaN(v))
            {
                return float.NaN;
            }

            max = Math.Max(max, v);
        }

        if (float.IsInfinity(max))
        {
            return max;
        }

        double sum = 0;
        foreach (float v in logits)
        {
            sum += Math.Exp(v - max);
        }

        return (float)(max + Math.Log(sum));
    }

    /// <summary>The predicted key: 1 + the index of the largest logit (the first one on ties); 0 (missing) when a logit is NaN.</summary>
    public static uint PredictedKey(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty || float.IsNaN(logits[0]))
        {
            return 0;
        }

        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (float.IsNaN(logits[i]))
            {
                return 0;
            }

            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return (uint)best + 1;
    }
}
