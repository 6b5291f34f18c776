using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlNotes.Trainers.Mdn;

/// <summary>Binds an <see cref="MdnModelParameters"/> to a feature column: Score plus the mixture columns, computed once per row and only when read.</summary>
internal sealed class MdnBoundMapper : ISchemaBoundRowMapper
{
    private const int ScoreIndex = 0;
    private const int ModeIndex = 1;
    private const int StandardDeviationIndex = 2;
    private const int LowerIndex = 3;
    private const int UpperIndex = 4;
    private const int WeightsIndex = 5;
    private const int MeansIndex = 6;
    private const int SigmasIndex = 7;
    private const int LogWeightsIndex = 8; // added after the v1 columns; computed, so models saved before it have it too

    private readonly MdnModelParameters _model;

    public MdnBoundMapper(IHostEnvironment env, MdnModelParameters model, RoleMappedSchema schema)
    {
        ArgumentNullException.ThrowIfNull(env);
        _model = model;
        InputRoleMappedSchema = schema;
        var feature = schema.Feature ?? ThrowHelper.InvalidOperation<DataViewSchema.Column>("The MDN needs a feature column, and the schema names none.");

        if (feature.Type is not VectorDataViewType { ItemType: NumberDataViewType } vector || vector.ItemType != NumberDataViewType.Single || vector.Size != model.FeatureCount)
        {
            ThrowHelper.SchemaMismatch(nameof(schema), feature.Name, $"Vector<Single, {model.FeatureCount}>", $"{feature.Type}");
        }

        int labelSize = model.LabelSize;
        DataViewType perLabel = labelSize == 1 ? NumberDataViewType.Single : new VectorDataViewType(NumberDataViewType.Single, labelSize);
        var score = ScoreSchemaFactory.Create(perLabel, AnnotationUtils.Const.ScoreColumnKind.Regression);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(score[0].Name, score[0].Type, score[0].Annotations);
        builder.AddColumn(MdnColumnNames.Mode, perLabel);
        builder.AddColumn(MdnColumnNames.StandardDeviation, perLabel);
        builder.AddColumn(MdnColumnNames.LowerBound, perLabel);
        builder.AddColumn(MdnColumnNames.UpperBound, perLabel);
        builder.AddColumn(MdnColumnNames.MixtureWeights, new VectorDataViewType(NumberDataViewType.Single, model.NumberOfComponents));
        builder.AddColumn(MdnColumnNames.MixtureMeans, new VectorDataViewType(NumberDataViewType.Single, model.NumberOfComponents * labelSize));
        builder.AddColumn(MdnColumnNames.MixtureStandardDeviations, new VectorDataViewType(NumberDataViewType.Single, model.NumberOfComponents * labelSize));
        builder.AddColumn(MdnColumnNames.MixtureLogWeights, new VectorDataViewType(NumberDataViewType.Single, model.NumberOfComponents));
        OutputSchema = builder.ToSchema();
    }

    public RoleMappedSchema InputRoleMappedSchema { get; }

    public DataViewSchema InputSchema => InputRoleMappedSchema.Schema;

    public DataViewSchema OutputSchema { get; }

    public ISchemaBindableMapper Bindable => _model;

    public IEnumerable<KeyValuePair<RoleMappedSchema.ColumnRole, string>> GetInputColumnRoles()
    {
        yield return RoleMappedSchema.ColumnRole.Feature.Bind(InputRoleMappedSchema.Feature!.Value.Name);
    }

    public IEnumerable<DataViewSchema.Column> GetDependenciesForNewColumns(IEnumerable<DataViewSchema.Column> dependingColumns)
        => dependingColumns.Any() ? new[] { InputRoleMappedSchema.Feature!.Value } : Enumerable.Empty<DataViewSchema.Column>();

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        var active = new bool[OutputSchema.Count];
        foreach (var column in activeColumns)
        {
            active[column.Index] = true;
        }

        var getters = new Delegate[OutputSchema.Count];
        if (active.Any(a => a))
        {
            var state = new RowState(_model, input, InputRoleMappedSchema.Feature!.Value,
                mode: active[ModeIndex], interval: active[LowerIndex] || active[UpperIndex]);
            var p = state.Prediction;
            bool scalar = _model.LabelSize == 1;
            getters[ScoreIndex] = PerLabel(state, p.Mean, scalar);
            getters[ModeIndex] = PerLabel(state, p.Mode, scalar);
            getters[StandardDeviationIndex] = PerLabel(state, p.StandardDeviation, scalar);
            getters[LowerIndex] = PerLabel(state, p.Lower, scalar);
            getters[UpperIndex] = PerLabel(state, p.Upper, scalar);
            getters[WeightsIndex] = Vector(state, p.Weights);
            getters[MeansIndex] = Vector(state, p.Means);
            getters[SigmasIndex] = Vector(state, p.Sigmas);
            getters[LogWeightsIndex] = Vector(state, p.LogWeights);
            for (int i = 0; i < getters.Length; i++)
            {
                if (!active[i])
                {
                    getters[i] = null!;
                }
            }
        }

        return new SimpleRow(OutputSchema, input, getters);
    }

    private static Delegate PerLabel(RowState state, double[] values, bool scalar)
        => scalar ? (ValueGetter<float>)((ref float dst) =>
        {
            state.Ensure();
            dst = (float)values[0];
        }) : Vector(state, values);

    private static ValueGetter<VBuffer<float>> Vector(RowState state, double[] values) => (ref VBuffer<float> dst) =>
    {
        state.Ensure();
        var editor = VBufferEditor.Create(ref dst, values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            editor.Values[i] = (float)values[i];
        }

        dst = editor.Commit();
    };

    /// <summary>One cursor's buffers; the row is scored the first time a getter asks for it.</summary>
    private sealed class RowState
    {
        private readonly MdnModelParameters _model;
        private readonly DataViewRow _input;
        private readonly ValueGetter<VBuffer<float>> _getFeatures;
        private readonly string _featureName;
        private readonly float[] _features;
        private readonly Numerics.Mlp<float>.Workspace _workspace;
        private readonly bool _mode;
        private readonly bool _interval;
        private VBuffer<float> _buffer;
        private long _position = -1;

        public RowState(MdnModelParameters model, DataViewRow input, DataViewSchema.Column feature, bool mode, bool interval)
        {
            _model = model;
            _input = input;
            _getFeatures = input.GetGetter<VBuffer<float>>(feature);
            _featureName = feature.Name;
            _features = new float[model.FeatureCount];
            // One row, not pooled: a row has no dispose hook to return buffers with.
            _workspace = model.Network.Mlp.CreateWorkspace(1, pooled: false);
            _mode = mode;
            _interval = interval;
            Prediction = new MdnPrediction(model.NumberOfComponents, model.LabelSize);
        }

        public MdnPrediction Prediction { get; }

        public void Ensure()
        {
            if (_position == _input.Position)
            {
                return;
            }

            _getFeatures(ref _buffer);
            if (_buffer.Length != _features.Length)
            {
                ThrowHelper.SchemaMismatch("input", _featureName, $"a vector of {_features.Length} values", $"{_buffer.Length} values at row {_input.Position}");
            }

            _buffer.CopyTo(_features);
            _model.Predict(_features, _workspace, Prediction, _mode, _interval);
            _position = _input.Position;
        }
    }
}
