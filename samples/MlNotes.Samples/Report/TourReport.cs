using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace MlNotes.Samples.Report;

/// <summary>The tour's one-page report: per scenario, what it printed and the pictures it wrote, as Markdown beside them.</summary>
public sealed class TourReport
{
    private readonly List<Section> _sections = new();

    public IReadOnlyList<string> Pictures => _sections.SelectMany(s => s.Pictures.Select(p => p.File)).ToList();

    public void BeginSection(string name, string description) => _sections.Add(new Section(name, description));

    public void Line(string text) => Current.Lines.Add(text);

    /// <summary>Records a picture written in the output folder (its file name is linked relative to the report).</summary>
    public void Picture(string path, string caption) => Current.Pictures.Add((Path.GetFileName(path), caption));

    public void EndSection(TimeSpan elapsed) => Current.Elapsed = elapsed;

    /// <summary>Writes <c>report.md</c> in <paramref name="folder"/> and returns its path.</summary>
    public string Write(string folder, TimeSpan total, bool quick)
    {
        var md = new StringBuilder();
        md.AppendLine("# MlNotes tour");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, CPU, {(quick ? "quick mode" : "full run")}: {_sections.Count} scenarios in {total.TotalSeconds:F0} s. Every model is the bundled one in `models-onnx/`; every number below was measured in this run.");
        md.AppendLine();
        md.AppendLine("| scenario | what it shows | seconds |");
        md.AppendLine("| --- | --- | ---: |");
        foreach (var s in _sections)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| [{s.Name}](#{s.Name}) | {s.Description} | {s.Elapsed.TotalSeconds:F1} |");
        }

        foreach (var s in _sections)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## {s.Name}");
            md.AppendLine();
            md.AppendLine(s.Description + ".");
            md.AppendLine();
            md.AppendLine("```");
            foreach (string line in s.Lines)
            {
                md.AppendLine(line);
            }

            md.AppendLine("```");
            foreach (var (file, caption) in s.Pictures)
            {
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture, $"![{caption}]({file})");
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture, $"*{caption}*");
            }
        }

        string path = Path.Combine(folder, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private Section Current => _sections.Count > 0 ? _sections[^1] : Add();

    private Section Add()
    {
        _sections.Add(new Section("scenario", "a scenario run on its own"));
        return _sections[^1];
    }

    private sealed class Section(string name, string description)
    {
        public string Name { get; } = name;

        public string Description { get; } = description;

        public List<string> Lines { get; } = new();

        public List<(string File, string Caption)> Pictures { get; } = new();

        public TimeSpan Elapsed { get; set; }
    }
}
