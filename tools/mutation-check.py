"""Mutation check: introduces each fault below by hand, runs the test project that should catch it, and restores the file.

Run from the repository root on a clean tree: python3 tools/mutation-check.py [name ...]
Each line of output names the fault and the failing tests; a fault with no failing test is one the suite does not catch.
"""
import subprocess, sys, re, time
# (name, file, old, new, test project)
M = [
 ("Adam bias correction skipped", "src/Trainers/Numerics/Adam.cs", "T.CreateTruncating(learningRate / (1.0 - Math.Pow(_beta1, _step)))", "T.CreateTruncating(learningRate)", "tests/MlNotes.Trainers.Tests"),
 ("mixture density without log sigma", "src/Trainers/Mdn/GaussianMixture.cs", "logN -= 0.5 * z * z + Math.Log(s) + HalfLogTwoPi;", "logN -= 0.5 * z * z + HalfLogTwoPi;", "tests/MlNotes.Trainers.Tests"),
 ("softmax sign", "src/Transforms/Onnx/ClassificationOutputs.cs", "MathF.Exp(logits[i] - max)", "MathF.Exp(max - logits[i])", "tests/MlNotes.Transforms.Tests"),
 ("batch one row short", "src/Transforms/Onnx/BatchedDataView.cs", "while (_batch.Count < _batch.Capacity)", "while (_batch.Count < _batch.Capacity - 1)", "tests/MlNotes.Transforms.Tests"),
 ("dropped L2 normalization", "src/Transforms/Onnx/EmbeddingMath.cs", "        TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);", "        _ = norm;", "tests/MlNotes.Transforms.Tests"),
 ("mean/std channel index", "src/Transforms/Vision/ImagePreprocessor.cs", "float mean = s.Mean[c], std = s.Std[c];", "float mean = s.Mean[0], std = s.Std[c];", "tests/MlNotes.Transforms.Tests"),
]
only = sys.argv[1:]
if only:
    M = [m for m in M if m[0] in only]
for name, f, old, new, proj in M:
    if subprocess.run(["git", "diff", "--quiet", "--", f]).returncode != 0:
        sys.exit(f"{f} has uncommitted changes: commit or stash them first (the check restores the file with git checkout)")
    src = open(f).read()
    assert src.count(old) == 1, (name, src.count(old))
    open(f, "w").write(src.replace(old, new))
    t = time.time()
    r = subprocess.run(["dotnet", "test", proj, "-c", "Release"], capture_output=True, text=True)
    out = r.stdout + r.stderr
    subprocess.run(["git", "checkout", "--", f])
    failed = sorted(set(re.findall(r"^\s+Failed (\S+)", out, re.M)))
    summary = re.findall(r"(Failed!|Passed!)\s+- Failed:\s+(\d+), Passed:\s+(\d+)", out)
    err = "build error" if "error CS" in out else ""
    print(f"## {name} ({f}): rc={r.returncode} {summary} {err} {time.time()-t:.0f}s")
    for x in failed[:12]:
        print("   ", x)
    print(f"    ({len(failed)} failing tests)", flush=True)
