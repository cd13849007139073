#!/usr/bin/env bash
# Builds the optional native kernel library into the module's classes (it ships inside the jar):
#   build.sh OUTPUT_DIR
# Only on Linux x86_64 with a C compiler; anywhere else it removes a library left by an earlier build and exits 0,
# and the runtime uses its Java Vector API kernels (NativeKernels says why).
set -euo pipefail
out=$1
src=$(cd "$(dirname "$0")" && pwd)
lib="$out/libsecuretag_gguf.so"
cc=${CC:-cc}
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "securetag-gguf-runtime native kernels: not built ($(uname -s) $(uname -m); only Linux x86_64 is built)"
  rm -f "$lib"
  exit 0
fi
# SECURETAG_REQUIRE_NATIVE=true (CI's main pass) turns every reason to skip into a build failure.
skip() {
  rm -f "$lib"
  if [ "${SECURETAG_REQUIRE_NATIVE:-false}" = true ]; then
    echo "securetag-gguf-runtime native kernels: NOT built: $1 (SECURETAG_REQUIRE_NATIVE=true)" >&2
    exit 1
  fi
  echo "securetag-gguf-runtime native kernels: not built ($1); the Java kernels will run"
  exit 0
}
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler '$cc' on PATH"
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
[ -f "$java_home/include/jni.h" ] || skip "no jni.h under $java_home/include"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(-O3 -fPIC -std=c11 -Wall -Wextra -Werror -fvisibility=hidden -I"$src")
log="$tmp/cc.log"
if ! { "$cc" "${flags[@]}" -mavx2 -mfma -mf16c -c "$src/kernels_x86.c" -o "$tmp/avx2.o" &&
  "$cc" "${flags[@]}" -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni -DST_VNNI \
    -c "$src/kernels_x86.c" -o "$tmp/vnni.o" &&
  "$cc" "${flags[@]}" -I"$java_home/include" -I"$java_home/include/linux" \
    -c "$src/securetag_gguf_jni.c" -o "$tmp/jni.o" &&
  "$cc" -shared -o "$tmp/libsecuretag_gguf.so" "$tmp/avx2.o" "$tmp/vnni.o" "$tmp/jni.o"; } >"$log" 2>&1; then
  cat "$log" >&2
  skip "'$cc' failed (a compiler without AVX-512 VNNI intrinsics, or no C library headers: see above)"
fi
mkdir -p "$out"
mv -f "$tmp/libsecuretag_gguf.so" "$lib"
echo "securetag-gguf-runtime native kernels: built $lib with $("$cc" --version | head -1)"
