using System.IO;
using System.Linq;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.ML;
using MlNotes.Serving.Sample;

namespace MlNotes.Serving.Tests;

/// <summary>The sample app on the test server (the real ASP.NET Core pipeline, in memory), with its models in a temp folder.</summary>
internal sealed class ServingFactory : WebApplicationFactory<Program>
{
    private readonly TempFolder _folder = new();
    private readonly (string Key, string Value)[] _settings;

    public ServingFactory(params (string Key, string Value)[] settings) => _settings = settings;

    public string ModelFolder => _folder.Path;

    public string ClassifierZip => Path.Combine(_folder.Path, "classifier.zip");

    /// <summary>Single-row PredictionEngine answers of a classifier zip for the test images.</summary>
    public static ImagePrediction[] EngineAnswers(string zip)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(zip, out _);
        using var engine = ml.Model.CreatePredictionEngine<ImageRow, ImagePrediction>(model);
        var answers = Fashion.Images.Select(b => engine.Predict(new ImageRow { Image = b })).ToArray();
        BundledModels.DisposeModel(model);
        return answers;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Serving:ModelFolder", _folder.Path);
        builder.UseSetting("Serving:Baseline", "false");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _folder.Dispose();
        }
    }
}
