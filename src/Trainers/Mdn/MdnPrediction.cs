namespace MlNotes.Trainers.Mdn;

/// <summary>One row's predicted mixture, in label units, and its summaries. Reused across rows by one cursor.</summary>
internal sealed class MdnPrediction
{
    public MdnPrediction(int components, int labelSize)
    {
        Weights = new double[components];
        LogWeights = new double[components];
        Means = new double[components * labelSize];
        Sigmas = new double[components * labelSize];
        Mean = new double[labelSize];
        Mode = new double[labelSize];
        StandardDeviation = new double[labelSize];
        Lower = new double[labelSize];
        Upper = new double[labelSize];
    }

    public double[] Weights { get; }

    /// <summary>log-softmax of the logits, computed in double: finite where a weight underflows to 0.</summary>
    public double[] LogWeights { get; }

    public double[] Means { get; }

    public double[] Sigmas { get; }

    public double[] Mean { get; }

    public double[] Mode { get; }

    public double[] StandardDeviation { get; }

    public double[] Lower { get; }

    public double[] Upper { get; }

    /// <summary>Fills the summaries; the mode and the interval (iterative) only when asked for.</summary>
    public void Summarize(double coverage, bool mode, bool interval)
    {
        int dims = Mean.Length;
        if (mode)
        {
            GaussianMixture.Mode(LogWeights, Means, Sigmas, Mode);
        }

        for (int d = 0; d < dims; d++)
        {
            Mean[d] = GaussianMixture.Mean(Weights, Means, dims, d);
            StandardDeviation[d] = GaussianMixture.StandardDeviation(Weights, Means, Sigmas, dims, d);
            if (interval)
            {
                Lower[d] = GaussianMixture.Quantile(Weights, Means, Sigmas, dims, d, (1 - coverage) / 2);
                Upper[d] = GaussianMixture.Quantile(Weights, Means, Sigmas, dims, d, (1 + coverage) / 2);
            }
        }
    }
}
