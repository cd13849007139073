#!/usr/bin/env bash
# Rebuilds every CUDA source in the repository to PTX exactly as the shipped PTX was built, fails when the shipped
# PTX (the resource the SDK loads) differs from that fresh build, and assembles the PTX for sm_75, sm_80 and sm_90
# with ptxas, so a kernel that does not compile or a stale PTX fails CI even on a machine without a GPU.
# This is the check CudaPtxTest makes: same -arch, comments (the "//" header naming the compiler build) ignored.
# Without nvcc it prints a loud warning and exits 0 (a machine with only a JDK must stay green); set
# SECURETAG_REQUIRE_NVCC=1 to make a missing nvcc an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the -arch in CudaPtxTest and in the regeneration command in the .cu header.
PTX_ARCH=compute_75
SASS_ARCHS=(sm_75 sm_80 sm_90)

# Tracked and not-yet-committed sources alike (a moved module is found before its commit); deleted ones are skipped.
list_files() {
  { git ls-files --cached --others --exclude-standard "$1" 2>/dev/null || find . -name "$1" -not -path '*/target/*'; } \
    | while read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done | sort -u
}

mapfile -t sources < <(list_files '*.cu')
if [ "${#sources[@]}" -eq 0 ]; then
  echo "no .cu sources"
  exit 0
fi
if ! command -v nvcc >/dev/null 2>&1 || ! command -v ptxas >/dev/null 2>&1; then
  {
    echo "################################################################################"
    echo "# WARNING: nvcc/ptxas not on PATH -- CUDA CHECK SKIPPED"
    echo "#"
    echo "# ${#sources[@]} CUDA source(s) were NOT compiled:"
    for src in "${sources[@]}"; do
      echo "#   $src"
    done
    echo "# The shipped PTX was NOT compared with a fresh build and NOT assembled for"
    echo "# ${SASS_ARCHS[*]}. A broken kernel or a stale PTX will not be caught here."
    echo "# Install the CUDA toolkit (nvcc) or set SECURETAG_REQUIRE_NVCC=1 to fail."
    echo "################################################################################"
  } >&2
  if [ "${SECURETAG_REQUIRE_NVCC:-0}" = "1" ]; then
    exit 1
  fi
  exit 0
fi

# The PTX body without "//" comment lines and without leading/trailing blank lines (CudaPtxTest's body()).
ptx_body() {
  grep -v '^//' "$1" | sed -e '/./,$!d' | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
echo "nvcc: $(nvcc --version | tail -n 1)"
for src in "${sources[@]}"; do
  name=$(basename "$src" .cu)
  mapfile -t shipped < <(list_files "*/$name.ptx")
  if [ "${#shipped[@]}" -ne 1 ]; then
    echo "ERROR: $src: expected exactly one shipped $name.ptx, found ${#shipped[@]}: ${shipped[*]:-none}" >&2
    failed=1
    continue
  fi
  echo "nvcc -ptx -arch=$PTX_ARCH $src"
  nvcc -ptx -arch="$PTX_ARCH" -o "$out/$name.ptx" "$src"
  if ! diff -u --label "shipped ${shipped[0]}" --label "fresh nvcc build" \
      <(ptx_body "${shipped[0]}") <(ptx_body "$out/$name.ptx") >"$out/$name.diff"; then
    {
      echo "ERROR: ${shipped[0]} differs from a fresh nvcc build of $src:"
      head -n 40 "$out/$name.diff"
      echo "Regenerate with: nvcc -ptx -arch=$PTX_ARCH -o ${shipped[0]} $src"
    } >&2
    failed=1
  fi
  for sm in "${SASS_ARCHS[@]}"; do
    ptxas -arch="$sm" -o "$out/$name.$sm.cubin" "${shipped[0]}"
  done
  echo "  ${shipped[0]}: equals the fresh build, assembles for ${SASS_ARCHS[*]}"
done
if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "compiled ${#sources[@]} CUDA source(s) for $PTX_ARCH; shipped PTX up to date and assembled for ${SASS_ARCHS[*]}"
