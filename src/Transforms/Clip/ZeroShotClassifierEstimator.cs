using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Transforms.Manifests;
using MlNotes.Transforms.Onnx;
using MlNotes.Transforms.Text;

namespace MlNotes.Transforms.Clip;

/// <summary>
/// Zero-shot classification with a CLIP text tower: <see cref="Fit"/> fills every prompt template with every class name, embeds the
/// prompts once, averages each label's template embeddings and normalizes them (the prompt ensemble); the transformer scores an
/// image embedding column against those label embeddings. Create it with <c>mlContext.Transforms.ClassifyZeroShot</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No: it embeds the prompts, not the data |
/// | Input column data type | Known-size vector of Single: an embedding in the text tower's space (from `EncodeClipImage`) |
/// | Output column data type | `Score`: known-size vector of Single, softmax of logit scale x cosine, labels as slot names; `PredictedLabel`: key type whose key values are the labels |
/// | Exportable to ONNX | No |
///
/// `MulticlassClassification.Evaluate` reads the outputs directly (key the label column by the same labels, in the same order).
/// The label embeddings live in the saved model: scoring needs no text tower. Apply models only from trusted sources.
/// ]]></format>
/// </remarks>
public sealed class ZeroShotClassifierEstimator : IEstimator<ZeroShotClassifierTransformer>
{
    private readonly IHost _host;
    private readonly Options _options;
    private readonly string[] _labels;
    private readonly string[] _classNames;
    private readonly string[] _templates;
    private readonly float _logitScale;

    internal ZeroShotClassifierEstimator(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(ZeroShotClassifierEstimator));
        _options = (Options)options.Copy();
        if (_options.ModelFile == null && _options.ModelBytes == null)
        {
            ThrowHelper.BadOption(nameof(options.ModelFile), "A zero-shot classifier needs the CLIP text tower: set ModelFile (or ModelBytes).");
        }

        if (_options.ModelFile != null && !File.Exists(_options.ModelFile))
        {
            throw new FileNotFoundException($"The text tower '{_options.ModelFile}' does not exist.", _options.ModelFile);
        }

        var manifest = _options.ManifestFile != null ? ModelManifest.Load(_options.ManifestFile) : ModelManifest.Beside(_options.ModelFile);
        ManifestFields.CheckFamily(manifest, "ClassifyZeroShot", "clip-text", "text-encoder");
        _labels = _options.Labels ?? manifest?.Labels ?? Array.Empty<string>();
        _classNames = _options.ClassNames ?? (_options.Labels == null ? manifest?.ClassNames : null) ?? _labels;
        _templates = _options.Templates ?? manifest?.ZeroShotTemplates ?? new[] { Defaults.Template };
        CheckPrompts(_labels, _classNames, _templates);
        _logitScale = EmbeddingMath.CheckedLogitScale(_options.LogitScale ?? (float)(manifest?.LogitScale ?? Defaults.LogitScale));

        if (string.IsNullOrEmpty(_options.InputColumnName) || string.IsNullOrEmpty(_options.ScoreColumnName) || string.IsNullOrEmpty(_options.PredictedLabelColumnName))
        {
            ThrowHelper.BadOption(nameof(options.InputColumnName), "Column names must not be empty.");
        }
    }

    /// <summary>Embeds the prompts with the text tower and returns the classifier.</summary>
    /// <param name="input">Data with the image embedding column (only its schema is read).</param>
    /// <exception cref="ArgumentOutOfRangeException">The embedding column is missing, not a Single vector, or its size is not the text tower's.</exception>
    public ZeroShotClassifierTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = input.Schema.GetColumnOrNull(_options.InputColumnName);
        if (column == null)
        {
            ThrowHelper.MissingColumn(nameof(input), _options.InputColumnName);
        }

        var textOptions = new OnnxTextEncoderEstimator.Options
        {
            ModelFile = _options.ModelFile,
            ModelBytes = _options.ModelBytes,
            ManifestFile = _options.ManifestFile,
            VocabFile = _options.VocabFile,
            Normalize = true,
            BatchSize = _options.BatchSize,
            ExecutionProvider = _options.ExecutionProvider,
            GpuDeviceId = _options.GpuDeviceId,
            FallbackToCpu = _options.FallbackToCpu,
            IntraOpNumThreads = _options.IntraOpNumThreads,
            InterOpNumThreads = _options.InterOpNumThreads,
        };
        using var tower = new OnnxTextEncoderTransformer(_host, textOptions);
        int size = tower.EmbeddingSize;
        if (column.Value.Type is not VectorDataViewType { ItemType: NumberDataViewType } vector || vector.ItemType != NumberDataViewType.Single || vector.Size != size)
        {
            ThrowHelper.SchemaMismatch(nameof(input), _options.InputColumnName,
                $"Vector<Single, {size}> (the text tower's embedding size: the image and text towers must share one space)", $"{column.Value.Type}");
        }

        var prompts = _classNames.SelectMany(name => _templates.Select(t => t.Replace("{}", name, StringComparison.Ordinal))).ToArray();
        var embedded = tower.Embed(prompts);
        var labelEmbeddings = new float[_labels.Length * size];
        for (int label = 0; label < _labels.Length; label++)
        {
            var target = labelEmbeddings.AsSpan(label * size, size);
            for (int t = 0; t < _templates.Length; t++)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(target, embedded[(label * _templates.Length) + t], target);
            }

            EmbeddingMath.Normalize(target);
        }

        return new ZeroShotClassifierTransformer(_host, _options.InputColumnName, _options.ScoreColumnName, _options.PredictedLabelColumnName,
            _labels, labelEmbeddings, size, _logitScale);
    }

    /// <summary>The input columns plus <c>Score</c> and <c>PredictedLabel</c>.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var builder = new DataViewSchema.Builder();
        ClassificationOutputs.AddColumns(builder, _options.ScoreColumnName, _options.PredictedLabelColumnName, _labels.Select(l => l.AsMemory()).ToArray());
        return SchemaShapes.Extend(inputSchema, [new ColumnRead(_options.InputColumnName, SchemaShapes.IsSingleVector, "a known-size vector of Single")], SchemaShapes.Of(builder.ToSchema()));
    }

    private static void CheckPrompts(string[] labels, string[] classNames, string[] templates)
    {
        if (labels.Length == 0)
        {
            ThrowHelper.BadOption(nameof(Options.Labels), "A zero-shot classifier needs at least one label: set Labels (or give a manifest with labels).");
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(labels[i]))
            {
                ThrowHelper.BadOption(nameof(Options.Labels), $"Label {i} is empty.");
            }
        }

        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Length)
        {
            ThrowHelper.BadOption(nameof(Options.Labels), $"Labels must be distinct: {string.Join(", ", labels)}.");
        }

        if (classNames.Length != labels.Length)
        {
            ThrowHelper.BadOption(nameof(Options.ClassNames), $"ClassNames gives {classNames.Length} names for {labels.Length} labels: one name per label.");
        }

        for (int i = 0; i < classNames.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(classNames[i]))
            {
                ThrowHelper.BadOption(nameof(Options.ClassNames), $"The class name of label '{labels[i]}' (position {i}) is empty.");
            }
        }

        if (templates.Length == 0)
        {
            ThrowHelper.BadOption(nameof(Options.Templates), "A zero-shot classifier needs at least one prompt template, such as \"a photo of a {}.\".");
        }

        for (int i = 0; i < templates.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(templates[i]))
            {
                ThrowHelper.BadOption(nameof(Options.Templates), $"Prompt template {i} is empty.");
            }

            if (!templates[i].Contains("{}", StringComparison.Ordinal))
            {
                ThrowHelper.BadOption(nameof(Options.Templates), $"Prompt template {i} (\"{templates[i]}\") has no {{}} placeholder for the class name.");
            }
        }
    }

    /// <summary>Options of <see cref="ZeroShotClassifierEstimator"/>. <see cref="OnnxModelOptions.ModelFile"/> is the CLIP text tower; unset values come from its manifest.</summary>
    public sealed class Options : OnnxModelOptions
    {
        /// <summary>The text tower's manifest. Default: the .json beside the model, if any.</summary>
        public string? ManifestFile { get; set; }

        /// <summary>The text tower's <c>vocab.txt</c>. Default: the manifest's.</summary>
        public string? VocabFile { get; set; }

        /// <summary>The labels: the predicted label's key values and the score slot names. Default: the manifest's labels.</summary>
        public string[]? Labels { get; set; }

        /// <summary>The words that name each label in the prompts (one per label). Default: the manifest's class_names with its labels, else the labels.</summary>
        public string[]? ClassNames { get; set; }

        /// <summary>Prompt templates, each with one <c>{}</c> for the class name. Default: the manifest's zero_shot_templates, else "a photo of a {}.".</summary>
        public string[]? Templates { get; set; }

        /// <summary>The logit scale multiplying cosine similarities before the softmax. Default: the manifest's learned logit_scale, else 100.</summary>
        public float? LogitScale { get; set; }

        /// <summary>The image embedding column.</summary>
        public string InputColumnName { get; set; } = Defaults.InputColumnName;

        /// <summary>The probabilities column.</summary>
        public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

        /// <summary>The predicted label column (key type, key values = labels).</summary>
        public string PredictedLabelColumnName { get; set; } = Defaults.PredictedLabelColumnName;

        /// <summary>Prompts per text tower run at <see cref="Fit"/>.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;
    }

    /// <summary>Default values of <see cref="Options"/>.</summary>
    internal static class Defaults
    {
        /// <summary>The image embedding column.</summary>
        public const string InputColumnName = "ImageEmbedding";

        /// <summary>The probabilities column.</summary>
        public const string ScoreColumnName = "Score";

        /// <summary>The predicted label column.</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>The template when neither the options nor the manifest give one.</summary>
        public const string Template = "a photo of a {}.";

        /// <summary>CLIP's largest logit scale, used when neither the options nor the manifest give one.</summary>
        public const float LogitScale = 100f;

        /// <summary>Prompts per run.</summary>
        public const int BatchSize = 32;
    }
}
