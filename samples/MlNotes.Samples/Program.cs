using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MlNotes.Samples.Clip;
using MlNotes.Samples.Cvae;
using MlNotes.Samples.Gan;
using MlNotes.Samples.Generation;
using MlNotes.Samples.InfoNce;
using MlNotes.Samples.Mdn;
using MlNotes.Samples.Text;
using MlNotes.Samples.Vae;
using MlNotes.Samples.Vision;

namespace MlNotes.Samples;

/// <summary>
/// The tour: <c>dotnet run -c Release --project samples/MlNotes.Samples [-- scenario ...] [--quick] [--out folder]</c>.
/// Every scenario runs on the bundled models and data, on the CPU.
/// </summary>
internal static class Program
{
    private static readonly (string Name, string Description, Action<SampleContext> Run)[] s_scenarios =
    {
        ("scoring", "batched ONNX scoring of a small graph, saved and reloaded", ScoringScenario.Run),
        ("vit", "Fashion-MNIST image classification with the notes' ViT", c => FashionClassificationScenario.Run("vit-fashion", c)),
        ("resnet", "the same pipeline with the ResNet graph (only the manifest differs)", c => FashionClassificationScenario.Run("resnet-fashion", c)),
        ("text", "fortunes text classification and similar-text search with the notes' Transformer encoder", c => TextClassificationScenario.Run(c)),
        ("vae", "VAE reconstructions, prior samples, an interpolation (PNG grids) and anomaly scores for the held-out class", c => VaeScenario.Run(c)),
        ("vqvae", "VQ-VAE: images to 49 discrete codes and back (PNG grids), codebook usage, an ML.NET-trained codebook re-quantizing the latents", c => VqVaeScenario.Run(c)),
        ("cvae", "CVAE with FiLM: a class-conditional grid (PNG), the generative classifier's confusion matrix and accuracy next to the ViT's", c => CvaeScenario.Run(c)),
        ("gan", "a GAN: seeded generated images (PNG grid), the discriminator's realism for real vs generated, the Fréchet distance of every generative model's samples", c => GanScenario.Run(c)),
        ("clip", "CLIP zero-shot classification from label names, and text-to-image search", c => ClipScenario.Run(c)),
        ("infonce", "an InfoNCE head aligning ViT image embeddings with Transformer caption embeddings; zero-shot classification", c => AlignmentScenario.Run(c)),
        ("mdn", "a Mixture Density Network on Bishop's inverse problem and Old Faithful, with PNG plots", c => MdnScenario.Run(c)),
        ("g2p", "pronunciations from a Transformer encoder-decoder (beam n-best, WER/PER next to Festival), and a fortunes LM's continuations", c => G2pScenario.Run(c)),
    };

    private static int Main(string[] args)
    {
        bool quick = args.Contains("--quick");
        int outIndex = Array.IndexOf(args, "--out");
        string output = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : Path.Combine(Directory.GetCurrentDirectory(), "samples-output");
        var names = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (outIndex < 0 || i != outIndex + 1)).ToList();
        var unknown = names.Where(n => s_scenarios.All(s => s.Name != n)).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"Unknown scenario(s): {string.Join(", ", unknown)}. Scenarios:");
            foreach (var (name, description, _) in s_scenarios)
            {
                Console.Error.WriteLine($"  {name,-8} {description}");
            }

            return 2;
        }

        var context = new SampleContext(SampleContext.FindRepositoryRoot(AppContext.BaseDirectory), Path.GetFullPath(output), quick);
        var chosen = names.Count == 0 ? s_scenarios : s_scenarios.Where(s => names.Contains(s.Name)).ToArray();
        var total = Stopwatch.StartNew();
        foreach (var (name, description, run) in chosen)
        {
            Console.WriteLine($"== {name}: {description}");
            context.Report.BeginSection(name, description);
            var watch = Stopwatch.StartNew();
            run(context);
            context.Report.EndSection(watch.Elapsed);
            Console.WriteLine($"   ({watch.Elapsed.TotalSeconds:F1} s)");
            Console.WriteLine();
        }

        string report = context.Report.Write(context.OutputFolder, total.Elapsed, quick);
        Console.WriteLine($"Tour done in {total.Elapsed.TotalSeconds:F0} s. Pictures, models and the report are in {context.OutputFolder}; open {report}");
        return 0;
    }
}
