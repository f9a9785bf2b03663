#!/usr/bin/env bash
# Usage: Tools/bench/portable/bundle.sh REPO (after a release build there).
# Packs REPO/.build/release/{rkan-repro,rkan-bench} with every shared library they load (and the
# dynamic loader) into REPO/.build-device/bundle.tar.xz, for a machine without Swift/OpenBLAS.
set -euo pipefail
REPO=$1; OUT=$REPO/.build-device; rm -rf "$OUT"; mkdir -p "$OUT/b/lib"
for p in rkan-repro rkan-bench; do cp "$REPO/.build/release/$p" "$OUT/b/$p.bin"; done
for p in rkan-repro rkan-bench; do ldd "$REPO/.build/release/$p" | awk '/=>/ {print $3} /ld-linux/ {print $1}'; done | sort -u | while read -r l; do [ -f "$l" ] && cp -L "$l" "$OUT/b/lib/"; done
# OpenBLAS pthread variant dlopens nothing else; libgfortran/quadmath come via ldd.
tar -C "$OUT" -cJf "$OUT/bundle.tar.xz" b && rm -rf "$OUT/b"; ls -la "$OUT"
