#!/usr/bin/env bash
# Usage: Tools/bench/portable/bundle.sh REPO (after a release build there).
# Packs REPO/.build/release/{rkan-repro,rkan-bench} with every shared library they load (and the
# dynamic loader) into REPO/.build-device/bundle.tar.xz, for a machine without Swift/OpenBLAS, with
# the GEMM-bound tools of Tools/bench/gemm_flops.py (count_sgemm.so, sgemm_shapes) built here.
set -euo pipefail
REPO=$1; OUT=$REPO/.build-device; rm -rf "$OUT"; mkdir -p "$OUT/b/lib"
for p in rkan-repro rkan-bench; do cp "$REPO/.build/release/$p" "$OUT/b/$p.bin"; done
cc -O2 -shared -fPIC -o "$OUT/b/count_sgemm.so" "$REPO/Tools/bench/count_sgemm.c" -ldl -lpthread
# sgemm_shapes with the own Winograd GEMM it times beside OpenBLAS: the sources and flags gemm_flops.py uses.
SOURCES=$(cd "$REPO" && python3 -c 'import shlex; from Tools.bench.gemm_flops import SGEMM_SHAPES_SOURCES as s; print(shlex.join(s))')
eval "cc $SOURCES -o \"\$OUT/b/sgemm_shapes.bin\" $(pkg-config --cflags --libs openblas) -lm"
for p in rkan-repro.bin rkan-bench.bin sgemm_shapes.bin; do ldd "$OUT/b/$p" | awk '/=>/ {print $3} /ld-linux/ {print $1}'; done | sort -u | while read -r l; do [ -f "$l" ] && cp -L "$l" "$OUT/b/lib/"; done
# OpenBLAS pthread variant dlopens nothing else; libgfortran/quadmath come via ldd.
tar -C "$OUT" -cJf "$OUT/bundle.tar.xz" b && rm -rf "$OUT/b"; ls -la "$OUT"
