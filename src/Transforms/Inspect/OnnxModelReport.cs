using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using MlNotes.Transforms.Text;

namespace MlNotes.Transforms.Inspect;

/// <summary>
/// What <see cref="Microsoft.ML.MlNotesModelOperationsCatalog.InspectOnnx"/> found in an ONNX graph: its inputs and outputs (element
/// types, fixed and symbolic dimensions, guessed roles), its opsets, producer and metadata, the family it is taken for, what was
/// decided from the graph and what was not. <see cref="WriteManifest"/> writes a starting manifest (docs/manifest.md, docs/inspect.md)
/// that lists what it could not decide in <c>not_decided</c>, so that a transform refuses it until each is set.
/// </summary>
public sealed class OnnxModelReport
{
    internal OnnxModelReport(string modelFile, string? modelFolder, OnnxModelFamily family, string familyReason, List<OnnxTensorReport> inputs,
        List<OnnxTensorReport> outputs, OnnxGraphHeader header, ModelMetadata metadata, TextModelFolder? folder)
    {
        ModelFile = modelFile;
        ModelFolder = modelFolder;
        Family = family;
        FamilyReason = familyReason;
        Inputs = inputs;
        Outputs = outputs;
        IrVersion = header.IrVersion;
        Opsets = header.Opsets;
        ProducerName = metadata.ProducerName ?? "";
        ProducerVersion = header.ProducerVersion;
        GraphName = metadata.GraphName ?? "";
        Description = metadata.Description ?? "";
        Metadata = new SortedDictionary<string, string>(metadata.CustomMetadataMap ?? new Dictionary<string, string>(), System.StringComparer.Ordinal);
        Folder = folder;
    }

    /// <summary>The ONNX file inspected (a folder's <c>model.onnx</c> when a folder was given).</summary>
    public string ModelFile { get; }

    /// <summary>The exported model folder given instead of a file, or null.</summary>
    public string? ModelFolder { get; }

    /// <summary>The family the graph is taken for (given, or guessed from its tensors).</summary>
    public OnnxModelFamily Family { get; }

    /// <summary>Why: the tensors the guess rests on.</summary>
    public string FamilyReason { get; }

    /// <summary>The graph's inputs, in graph order (initializers excluded).</summary>
    public IReadOnlyList<OnnxTensorReport> Inputs { get; }

    /// <summary>The graph's outputs, in graph order.</summary>
    public IReadOnlyList<OnnxTensorReport> Outputs { get; }

    /// <summary>The ONNX IR version of the file.</summary>
    public long IrVersion { get; }

    /// <summary>The operator sets by domain (<c>""</c> is the default domain, ai.onnx) and version.</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; }

    /// <summary>The exporter (<c>pytorch</c>, <c>tf2onnx</c>, ...).</summary>
    public string ProducerName { get; }

    /// <summary>The exporter's version.</summary>
    public string ProducerVersion { get; }

    /// <summary>The graph's name.</summary>
    public string GraphName { get; }

    /// <summary>The model's doc string.</summary>
    public string Description { get; }

    /// <summary>The model's custom metadata (<c>metadata_props</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The batch size the graph fixes on its first input's first axis, or null when that axis is symbolic.</summary>
    public int? FixedBatchSize => Inputs.FirstOrDefault(i => i.Dimensions.Count > 0) is { } first && first.Dimensions[0] > 0 ? first.Dimensions[0] : null;

    /// <summary>What was decided from the graph (and the folder), one sentence each.</summary>
    public IReadOnlyList<string> Decided => DecidedItems;

    /// <summary>What could not be decided, one sentence each naming the manifest field and the option that sets it.</summary>
    public IReadOnlyList<string> NotDecided => NotDecidedItems.Select(n => n.Sentence).ToList();

    internal List<string> DecidedItems { get; } = new();

    /// <summary>Field: the manifest field written into not_decided (null: reported only); Sentence: what the report prints.</summary>
    internal List<(string? Field, string Sentence)> NotDecidedItems { get; } = new();

    internal TextModelFolder? Folder { get; }

    /// <summary>The manifest family written (null: none, the image encoder's), set by <see cref="InspectDecisions"/>.</summary>
    internal string? ManifestFamily { get; set; }

    /// <summary>Why no manifest is written for this family (null when one is).</summary>
    internal string? NoManifestReason { get; set; }

    /// <summary>The catalog method that reads the manifest.</summary>
    internal string? Reader { get; set; }

    /// <summary>
    /// Writes a starting manifest for the graph to <paramref name="manifestFile"/> (paths in it relative to its folder): the tensors,
    /// the roles, what was decided, and a <c>not_decided</c> list of the fields that were not. The transform named in the report
    /// refuses the manifest while a listed field is set neither in it nor in its Options.
    /// </summary>
    /// <param name="manifestFile">The .json to write (its folder must exist).</param>
    /// <exception cref="System.NotSupportedException">The family has no single-graph manifest (seq2seq, decoder-only, dual CLIP, unknown graphs): the message says why.</exception>
    public void WriteManifest(string manifestFile)
    {
        System.ArgumentNullException.ThrowIfNull(manifestFile);
        File.WriteAllText(manifestFile, InspectManifestWriter.Write(this, manifestFile));
    }

    /// <summary>The report as the inspect tool prints it.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"ONNX model {ModelFile}{(ModelFolder != null ? $" (folder {ModelFolder})" : "")}");
        string opsets = string.Join(", ", Opsets.Select(o => string.Create(CultureInfo.InvariantCulture, $"{(o.Key.Length == 0 ? "ai.onnx" : o.Key)} {o.Value}")));
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  IR version {IrVersion}; opsets {opsets}; producer {ProducerName} {ProducerVersion}").TrimEnd());
        if (GraphName.Length > 0 || Description.Length > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  graph '{GraphName}'{(Description.Length > 0 ? $": {Description}" : "")}");
        }

        foreach (var (key, value) in Metadata)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  metadata {key} = {value}");
        }

        s.AppendLine("Inputs:");
        foreach (var t in Inputs)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  {t}");
        }

        s.AppendLine("Outputs:");
        foreach (var t in Outputs)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  {t}");
        }

        if (FixedBatchSize is int batch)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"Batch axis: FIXED at {batch} (not symbolic): MlNotes runs {batch} row(s) per ONNX Runtime run; re-export with a dynamic first axis for larger runs.");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"Family: {Family} ({FamilyReason}){(Reader != null ? $"; read by {Reader}" : "")}");
        foreach (string d in Decided)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  decided: {d}");
        }

        foreach (string n in NotDecided)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  not decided: {n}");
        }

        if (NoManifestReason != null)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  no manifest: {NoManifestReason}");
        }

        return s.ToString();
    }
}
