#!/usr/bin/env bash
# Rebuilds everything in models-onnx/: installs the Debian packages it needs, trains every model with fixed
# seeds on 2 threads, exports the ONNX graphs, writes manifests, fixtures, data/ and metrics.json.
# Usage: models-onnx/build.sh [--only vit,resnet,text,vae,clip] [--quick] [--verbose]
# Wall time: about 53 min on 2 cores shared with other work (2,540 s CPU). On 2 idle cores (measured 2026-11-24): CLIP 539 s,
# then the ViT at about 2.2 min per epoch (12 epochs): the whole build takes about 45 min, over the 30-minute budget.
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
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"   # do not spin when the cores are shared
export PYTHONDONTWRITEBYTECODE=1
exec "$py" -W ignore "$here/python/build.py" "$@"
