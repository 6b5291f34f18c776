#!/usr/bin/env bash
# Rebuilds everything in models-onnx/: installs the Debian packages it needs, trains every model with fixed
# seeds on 2 threads, exports the ONNX graphs, writes manifests, fixtures, data/ and metrics.json.
# Usage: models-onnx/build.sh [--only vit,resnet,text,vae,clip,vqvae,glyphs,vae-background,resnet-seen,g2p,lm,gan,cvae] [--quick] [--verbose]
# Wall time: 1,322 s (22 min) on this project's 2-core machine, nearly idle (measured 2026-11-24; 2,473 s CPU; per model in metrics.json).
# CI does not run it: the outputs are committed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3   # Debian's interpreter: torch 1.13 and onnx 1.12 live there
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp

need=()
"$py" -c "import torch, onnx, PIL, numpy" >/dev/null 2>&1 || need+=(python3-torch python3-onnx python3-pil python3-numpy)
[ -e "$blas/libblas.so.3" ] || need+=(libopenblas0-openmp)
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
[ -e /usr/share/games/fortunes/people ] || need+=(fortunes)
[ -e /usr/share/festival/dicts/cmu/cmudict-0.4.out ] || need+=(festlex-cmu festival)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Debian's torch links the reference BLAS; point it at OpenBLAS (several times faster), 2 threads.
export LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TORCH_THREADS="${TORCH_THREADS:-2}"
export OMP_NUM_THREADS="$TORCH_THREADS"
# OMP_WAIT_POLICY is left to the environment: OpenMP's default (threads spin briefly between parallel regions) is
# about 25% faster than PASSIVE on idle cores; export OMP_WAIT_POLICY=PASSIVE when the cores are shared.
# glibc returns freed blocks of more than 128 KiB to the kernel (mmap/munmap, heap trimming), so every training step
# touches its activations' pages afresh: about 10,000 page faults a step for the ViT, and page faults are slow on this
# VM (the ViT step took 175 ms instead of 78 ms, the CLIP and ResNet steps several times longer). Keep freed memory
# in the process (blocks up to 32 MiB from the heap, no trimming); overridable from the environment.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-17179869184}"
export PYTHONDONTWRITEBYTECODE=1
exec "$py" -W ignore "$here/python/build.py" "$@"
