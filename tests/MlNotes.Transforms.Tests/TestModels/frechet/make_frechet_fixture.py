#!/usr/bin/python3
"""Writes frechet_expected.json: two fixed sets of vectors and their Fréchet distance computed as pytorch-fid computes it
(NumPy means and covariances, scipy.linalg.sqrtm of the product), the known answer of FrechetDistanceTests.

    /usr/bin/python3 make_frechet_fixture.py      (Debian's python3-numpy and python3-scipy)
"""
import json
import os

import numpy as np
import scipy
from scipy import linalg


def frechet(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


rng = np.random.RandomState(7)
dim = 6
a = rng.randn(40, dim).astype(np.float32)
mix = rng.randn(dim, dim) * 0.5 + np.eye(dim)
b = (rng.randn(55, dim) @ mix + 0.75).astype(np.float32)
cases = {"a_b": frechet(a.astype(np.float64), b.astype(np.float64)),
         "a_a": frechet(a.astype(np.float64), a.astype(np.float64)),
         "b_a": frechet(b.astype(np.float64), a.astype(np.float64))}
out = {"a": a.tolist(), "b": b.tolist(), "distance": cases, "numpy": np.__version__, "scipy": scipy.__version__,
       "formula": "||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrtm(S_a S_b)); np.cov (n - 1); float32 vectors, float64 arithmetic"}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "frechet_expected.json"), "w") as f:
    json.dump(out, f, indent=1)
print(cases)
