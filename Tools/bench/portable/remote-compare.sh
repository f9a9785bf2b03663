#!/usr/bin/env bash
# Benchmarks on a machine without Swift or OpenBLAS (e.g. one lent for minutes): run from the
# repository root after `Tools/bench/portable/bundle.sh .` made .build-device/bundle.tar.xz here
# and the tree (with .build-device/) was copied there. Unpacks the bundle, puts wrappers that start
# the binaries with the bundled loader and libraries in .build/release, prints the machine, forces
# the OpenBLAS core (the loader path would break --blas-core's re-execution), and runs
# Tools/bench/compare.py when PyTorch imports (else rkan-repro alone) with every row's GEMM bound
# (--gemm-bound, the bundle's prebuilt shim and sgemm_shapes), then extra rows.
# Environment: OUT (folder for performance.md, required), BUDGET (seconds for compare.py, 400: it
# starts no round that would end past BUDGET - 30 s and writes the rounds it ran),
# ARGS (more compare.py options, e.g. --only ...), ROUNDS (alternating rounds, 3), CORE (to override
# the OpenBLAS core).
set -uo pipefail
D=$PWD/.build-device; tar -C "$D" -xJf "$D/bundle.tar.xz"; B=$D/b
mkdir -p .build/release
for p in rkan-repro rkan-bench sgemm_shapes; do printf '#!/bin/sh\nexec %s/lib/ld-linux-x86-64.so.2 --library-path %s/lib %s/%s.bin "$@"\n' "$B" "$B" "$B" "$p" > .build/release/$p; chmod +x .build/release/$p; done
cp "$B/count_sgemm.so" .build/release/; export GEMM_TOOLS=$PWD/.build/release
lscpu | grep -E "Model name|Vendor|^CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|NUMA node0"
grep -m1 -o 'avx512_bf16\|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' '; grep -m1 -c avx512f /proc/cpuinfo; uptime
if [ -n "${CORE:-}" ]; then :; elif grep -q -m1 avx512_bf16 /proc/cpuinfo; then CORE=Cooperlake; elif grep -q -m1 avx512f /proc/cpuinfo; then CORE=SkylakeX; else CORE=Haswell; fi
export OPENBLAS_CORETYPE=$CORE; echo "OPENBLAS_CORETYPE=$CORE"
.build/release/rkan-repro bench 'resnet18(stem=small)' --batch 8 --size 32 --warmup 1 --iterations 1 --repeats 1 --threads 2 --mode infer 2>&1 | tail -2
if python3 -c "import torch; print('torch', torch.__version__)" 2>&1; then
  cp Reports/performance.md $OUT/performance.md
  timeout ${BUDGET:-400} taskset -c 0,1 python3 -m Tools.bench.compare --skip-build --threads 2 --warmup 2 --iters 5 --repeats ${ROUNDS:-3} --retries 1 --no-rss --gemm-bound --budget $(( ${BUDGET:-400} - 30 )) --out $OUT/performance.md ${ARGS:-} 2>&1 | tail -60
else
  for r in "resnet18(stem=small) 128 32" "resnet18(stem=small)+rkan 128 32" "resnet50 32 128" "resnet50+rkan 32 128"; do set -- $r
    for m in train infer; do timeout 100 taskset -c 0,1 .build/release/rkan-repro bench "$1" --batch $2 --size $3 --mode $m --warmup 2 --iterations 5 --repeats 1 --threads 2 2>&1 | tail -1; done; done
fi
echo "--- rkan-repro only (same settings as compare.py: warmup 2, iterations 5, 2 threads, cores 0-1)"
for m in train infer; do timeout 60 taskset -c 0,1 .build/release/rkan-repro bench resnet50 --batch 32 --size 128 --mode $m --warmup 2 --iterations 5 --repeats 1 --threads 2 --classes 100 2>&1 | tail -1; done
for m in train infer; do RKAN_CONV_ALGO=winograd-f4a timeout 60 taskset -c 0,1 .build/release/rkan-repro bench 'resnet18(stem=small)' --batch 128 --size 32 --mode $m --warmup 2 --iterations 5 --repeats 1 --threads 2 --classes 100 2>&1 | tail -1; done
