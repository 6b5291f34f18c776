namespace MlNotes.Transforms.Vae;

/// <summary>What <see cref="VaeAnomalyDetectorEstimator"/> scores a row by (higher is more anomalous).</summary>
public enum VaeAnomalyScore
{
    /// <summary>
    /// The negative log-likelihood: -ELBO, or -log p(x) with importance samples, in nats. Known to fail on inputs simpler than
    /// the training data (they get a higher likelihood).
    /// </summary>
    NegativeLogLikelihood = 0,

    /// <summary>
    /// The input-complexity-corrected score of Serrà et al. 2020: the negative log-likelihood in bits minus the image's
    /// length in bits as a PNG (lossless, 8-bit, zlib level 9, every PNG filter), so simple images no longer look normal.
    /// </summary>
    InputComplexity = 1,

    /// <summary>
    /// The likelihood ratio of Ren et al. 2019: the negative log-likelihood minus that of a background VAE trained on
    /// perturbed images (<c>BackgroundModelFile</c>), which cancels the low-level statistics both models share.
    /// </summary>
    LikelihoodRatio = 2,
}
