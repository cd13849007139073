#!/usr/bin/env bash
# Compiles every CUDA source in the repository to PTX and assembles that PTX for sm_80 and sm_90, so a kernel
# that does not compile fails CI even on a machine without a GPU. Skipped (with a message) where nvcc is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files '*.cu' 2>/dev/null || find . -name '*.cu' -not -path '*/target/*')
if [ "${#sources[@]}" -eq 0 ]; then
  echo "no .cu sources"
  exit 0
fi
if ! command -v nvcc >/dev/null 2>&1; then
  echo "nvcc not on PATH: skipping PTX compilation of ${#sources[@]} CUDA source(s)"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for src in "${sources[@]}"; do
  name=$(basename "$src" .cu)
  echo "nvcc -ptx $src"
  nvcc -ptx -arch=compute_80 -o "$out/$name.ptx" "$src"
  for sm in sm_80 sm_90; do
    ptxas -arch="$sm" -o "$out/$name.$sm.cubin" "$out/$name.ptx"
  done
done
echo "compiled and assembled ${#sources[@]} CUDA source(s) for sm_80 and sm_90"
