using System.Collections.Generic;

namespace MlNotes.Samples.Mdn;

/// <summary>What the MDN scenario produced: the plots, and the test NLL of each model.</summary>
public sealed record MdnScenarioResult(IReadOnlyList<string> PlotPaths, double InverseTestNll, double FaithfulTestNllOneComponent, double FaithfulTestNllThreeComponents, int ModesAtHalf);
