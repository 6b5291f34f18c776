using System.Collections.Generic;
using Microsoft.ML;

namespace MlNotes.Transforms.Onnx;

/// <summary>
/// A model family's mapper that holds the whole state of its transformers (the VAE, CVAE, VQ-VAE and GAN families): the sessions
/// it owns, the batches it makes, and the entry it writes into the model zip. A transformer over one is a thin typed shell.
/// </summary>
internal interface ISessionMapper : IOnnxMapper
{
    /// <summary>The sessions, one per graph.</summary>
    IReadOnlyList<OnnxModel> Models { get; }

    /// <summary>Writes the graphs and the settings, after the version header.</summary>
    void Save(ModelSaveContext ctx);
}
