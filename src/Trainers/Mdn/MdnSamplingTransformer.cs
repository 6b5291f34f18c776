using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNotes.Trainers.Mdn;
using MlNotes.Trainers.Numerics;

[assembly: LoadableClass(typeof(MdnSamplingTransformer), null, typeof(SignatureLoadModel),
    "MlNotes MDN sampling", MdnSamplingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(MdnSamplingTransformer), null, typeof(SignatureLoadRowMapper),
    "MlNotes MDN sampling", MdnSamplingTransformer.LoaderSignature)]

namespace MlNotes.Trainers.Mdn;

/// <summary>
/// Adds S draws per row from the row's predicted mixture. Created by <see cref="MdnSamplingEstimator"/>. A row's draws depend on the seed
/// and the row's <see cref="DataViewRowId"/>; models saved in the first format (v1) keep keying them by the row's position in the view.
/// </summary>
public sealed class MdnSamplingTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "MlNotesMdnSampling";

    // v1 (0x00010001): columns, samples, seed; draws keyed by row position. v2 (0x00010002): then an int, the SampleKey.
    private const uint KeyedVersion = 0x00010002;

    private readonly MdnSamplingEstimator.Options _options;

    internal MdnSamplingTransformer(IHostEnvironment env, MdnSamplingEstimator.Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(MdnSamplingTransformer)))
    {
        _options = options;
        Key = SampleKey.RowId;
    }

    private MdnSamplingTransformer(IHostEnvironment env, ModelLoadContext ctx)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(MdnSamplingTransformer)))
    {
        _options = new MdnSamplingEstimator.Options
        {
            OutputColumnName = ctx.LoadNonEmptyString(),
            WeightsColumnName = ctx.LoadNonEmptyString(),
            MeansColumnName = ctx.LoadNonEmptyString(),
            StandardDeviationsColumnName = ctx.LoadNonEmptyString(),
            NumberOfSamples = ctx.Reader.ReadInt32(),
            Seed = ctx.Reader.ReadInt32(),
        };
        Key = ctx.Header.ModelVerWritten >= KeyedVersion ? (SampleKey)ctx.Reader.ReadInt32() : SampleKey.Position;
        if (!Enum.IsDefined(Key))
        {
            ThrowHelper.CorruptEntry(ctx, $"unknown sample key {(int)Key} where 0 (row position) and 1 (row id) are known");
        }

        if (_options.NumberOfSamples < 1)
        {
            ThrowHelper.CorruptEntry(ctx, $"{_options.NumberOfSamples} samples per row where at least 1 is needed");
        }

        foreach (var (name, value) in ColumnNames(_options))
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                ThrowHelper.CorruptEntry(ctx, $"{name} is blank");
            }
        }
    }

    /// <summary>What a row's random stream is derived from, with the seed.</summary>
    internal enum SampleKey
    {
        /// <summary>The row's position in the view being read: how v1 models drew.</summary>
        Position = 0,

        /// <summary>The row's <see cref="DataViewRowId"/>, kept by filters, <c>SkipRows</c> and <c>TakeRows</c>.</summary>
        RowId = 1,
    }

    /// <summary>Draws per row.</summary>
    public int NumberOfSamples => _options.NumberOfSamples;

    /// <summary>The column of samples.</summary>
    public string OutputColumnName => _options.OutputColumnName;

    internal SampleKey Key { get; }

    internal static void Validate(MdnSamplingEstimator.Options options)
    {
        if (options.NumberOfSamples < 1)
        {
            ThrowHelper.BadOption(nameof(options.NumberOfSamples), $"NumberOfSamples must be at least 1, got {options.NumberOfSamples}.");
        }

        foreach (var (name, value) in ColumnNames(options))
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                ThrowHelper.BadOption(name, $"{name} must name a column.");
            }
        }
    }

    private static (string Name, string Value)[] ColumnNames(MdnSamplingEstimator.Options options) => new[]
    {
        (nameof(options.OutputColumnName), options.OutputColumnName), (nameof(options.WeightsColumnName), options.WeightsColumnName),
        (nameof(options.MeansColumnName), options.MeansColumnName), (nameof(options.StandardDeviationsColumnName), options.StandardDeviationsColumnName),
    };

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveNonEmptyString(_options.OutputColumnName);
        ctx.SaveNonEmptyString(_options.WeightsColumnName);
        ctx.SaveNonEmptyString(_options.MeansColumnName);
        ctx.SaveNonEmptyString(_options.StandardDeviationsColumnName);
        ctx.Writer.Write(_options.NumberOfSamples);
        ctx.Writer.Write(_options.Seed);
        ctx.Writer.Write((int)Key); // a v1 model saved again keeps drawing by position
    }

    // Found by ML.NET's ComponentCatalog; differs in visibility from the constructor of the same signature.
    internal static MdnSamplingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());
        return new MdnSamplingTransformer(env, ctx);
    }

    internal static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    private static VersionInfo GetVersionInfo() => ModelFormat.Version("MLNMDNSM", LoaderSignature, KeyedVersion);

    private sealed class Mapper : MapperBase
    {
        private readonly MdnSamplingTransformer _parent;
        private readonly int _weights;
        private readonly int _means;
        private readonly int _sigmas;
        private readonly int _components;
        private readonly int _labelSize;

        public Mapper(MdnSamplingTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _parent = parent;
            var options = parent._options;
            _weights = Find(inputSchema, options.WeightsColumnName, out _components);
            _means = Find(inputSchema, options.MeansColumnName, out int means);
            _sigmas = Find(inputSchema, options.StandardDeviationsColumnName, out int sigmas);
            _labelSize = means / _components;
            if (means != sigmas || means % _components != 0 || _labelSize < 1)
            {
                ThrowHelper.SchemaMismatch(nameof(inputSchema), options.MeansColumnName, $"K x D values (K = {_components}) in both means and standard deviations",
                    $"{means} means and {sigmas} standard deviations");
            }
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => new[] { new DataViewSchema.DetachedColumn(_parent._options.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, _parent._options.NumberOfSamples * _labelSize)) };

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
            => column => activeOutput(0) && (column == _weights || column == _means || column == _sigmas);

        protected override void SaveModel(ModelSaveContext ctx) => _parent.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            var getWeights = input.GetGetter<VBuffer<float>>(input.Schema[_weights]);
            var getMeans = input.GetGetter<VBuffer<float>>(input.Schema[_means]);
            var getSigmas = input.GetGetter<VBuffer<float>>(input.Schema[_sigmas]);
            var weights = new double[_components];
            var means = new double[_components * _labelSize];
            var sigmas = new double[_components * _labelSize];
            var draw = new double[_labelSize];
            VBuffer<float> buffer = default;
            int samples = _parent._options.NumberOfSamples;
            ulong seed = (ulong)(uint)_parent._options.Seed;
            var getId = _parent.Key == SampleKey.RowId ? input.GetIdGetter() : null;
            DataViewRowId id = default;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
            {
                getWeights(ref buffer);
                MdnEvaluator.Copy(buffer, weights);
                getMeans(ref buffer);
                MdnEvaluator.Copy(buffer, means);
                getSigmas(ref buffer);
                MdnEvaluator.Copy(buffer, sigmas);
                ulong stream;
                if (getId != null)
                {
                    getId(ref id);
                    stream = RowStream(seed, id);
                }
                else
                {
                    stream = SplitMix64.Derive(seed, (ulong)input.Position);
                }

                var random = new SplitMix64(stream);
                var editor = VBufferEditor.Create(ref dst, samples * _labelSize);
                for (int s = 0; s < samples; s++)
                {
                    GaussianMixture.Sample(weights, means, sigmas, ref random, draw);
                    for (int d = 0; d < _labelSize; d++)
                    {
                        editor.Values[s * _labelSize + d] = (float)draw[d];
                    }
                }

                dst = editor.Commit();
            };
            return getter;
        }

        /// <summary>
        /// The seed of a row's draws: Derive(seed, low word) for ids whose high word is 0 (so a full pass over a view whose ids are the row indices,
        /// LoadFromEnumerable for one, draws what v1 drew by position), else Derive of that with the high word.
        /// </summary>
        private static ulong RowStream(ulong seed, DataViewRowId id)
        {
            ulong low = SplitMix64.Derive(seed, id.Low);
            return id.High == 0 ? low : SplitMix64.Derive(low, id.High);
        }

        private static int Find(DataViewSchema schema, string name, out int size)
        {
            var column = schema.GetColumnOrNull(name) ?? ThrowHelper.MissingColumn<DataViewSchema.Column>(nameof(schema), name);

            size = column.Type is VectorDataViewType { ItemType: NumberDataViewType } vector && vector.ItemType == NumberDataViewType.Single ? vector.Size : 0;
            if (size <= 0)
            {
                ThrowHelper.SchemaMismatch(nameof(schema), name, "a known-size vector of Single", $"{column.Type}");
            }

            return column.Index;
        }
    }
}
