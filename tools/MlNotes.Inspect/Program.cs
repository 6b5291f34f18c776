using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using Microsoft.ML;
using MlNotes.Transforms.Inspect;

namespace MlNotes.Inspect;

/// <summary>
/// <c>dotnet run --project tools/MlNotes.Inspect -- model.onnx [--write-manifest out.json] [--family image-classifier]</c>: prints an
/// ONNX graph's inputs and outputs, opsets, producer and metadata, the family and roles it is taken for, what was decided and what
/// was not, and writes a starting manifest (docs/inspect.md). Exit codes: 0 done, 1 the model could not be inspected or no manifest
/// is written for its family (the message says why), 2 bad usage.
/// </summary>
internal static class Program
{
    public const int Ok = 0, Failed = 1, Usage = 2;

    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The command, writing to <paramref name="output"/> and <paramref name="error"/> (the tests' entry).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var model = new Argument<string>("model") { Description = "An .onnx file, or an exported model folder (sentence-transformers, Optimum) with model.onnx and tokenizer files." };
        var write = new Option<string?>("--write-manifest") { Description = "Write a starting manifest (MlNotes' format, docs/manifest.md) to this .json file." };
        var family = new Option<string?>("--family") { Description = "Take the graph for this family instead of the guess." };
        family.AcceptOnlyFromAmong(FamilyNames.Select(f => f.Name).ToArray());
        var root = new RootCommand("Inspects an ONNX graph before it is wrapped: tensors, roles, family, a starting manifest.") { model, write, family };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                error.WriteLine(e.Message);
            }

            error.WriteLine("Run with --help for the options.");
            return Usage;
        }

        if (parse.Action != null && parse.GetValue(model) == null)
        {
            // --help, --version: System.CommandLine's own action.
            return parse.Invoke();
        }

        string path = parse.GetValue(model)!;
        string? familyName = parse.GetValue(family);
        string? manifest = parse.GetValue(write);
        try
        {
            var report = new MLContext().Model.InspectOnnx(path, familyName != null ? FamilyNames.Single(f => f.Name == familyName).Family : null);
            output.Write(report.ToString());
            if (manifest != null)
            {
                report.WriteManifest(manifest);
                output.WriteLine($"Wrote {manifest}{(report.NotDecided.Count > 0 ? ": check what is not decided above; a transform refuses the manifest while a field its not_decided lists is unset" : "")}.");
            }

            return Ok;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException or FormatException)
        {
            error.WriteLine(e.Message);
            return Failed;
        }
    }

    internal static readonly (string Name, OnnxModelFamily Family)[] FamilyNames =
    {
        ("image-classifier", OnnxModelFamily.ImageClassifier), ("image-encoder", OnnxModelFamily.ImageEncoder), ("text-encoder", OnnxModelFamily.TextEncoder),
        ("clip-image", OnnxModelFamily.ClipImage), ("clip-text", OnnxModelFamily.ClipText), ("clip-dual", OnnxModelFamily.ClipDual),
        ("vae-encoder", OnnxModelFamily.VaeEncoder), ("vae-decoder", OnnxModelFamily.VaeDecoder), ("vqvae-encoder", OnnxModelFamily.VqVaeEncoder),
        ("vqvae-decoder", OnnxModelFamily.VqVaeDecoder), ("seq2seq-encoder", OnnxModelFamily.Seq2SeqEncoder), ("seq2seq-decoder", OnnxModelFamily.Seq2SeqDecoder),
        ("decoder-only-lm", OnnxModelFamily.DecoderOnlyLanguageModel), ("unknown", OnnxModelFamily.Unknown),
    };
}
