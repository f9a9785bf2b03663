#!/usr/bin/env python3
"""Where a step's time goes, rkan-repro against PyTorch (oneDNN) on the same CPU, by category.

    python3 -m Tools.bench.where_time_goes [--rows resnet18,resnet50] [--modes train,infer] \
        [--threads 2] [--iters 10] [--blas-core NAME] [--show-other K]
    python3 -m Tools.bench.where_time_goes --self-test [--binary PATH]   # every kernel symbol has its category

For each row of `Tools/bench/compare.py` asked for (default: the two plain ones) and mode:
- rkan-repro: `perf record -F 499` of `rkan-repro bench SPEC ... --warmup 1 --iterations N --json`,
  twice, with N and 2N timed steps; the samples per symbol of the first run are subtracted from
  the second's, so what is left is N steady steps: the process start, the weight initialisation
  and the warm-up step (which page-faults every buffer in) cancel. The samples are grouped by
  symbol into conv (OpenBLAS GEMM kernel and packing, Winograd transforms, im2col/col2im),
  BatchNorm, ReLU, memset/memmove, residual add and gradient accumulation, pooling, optimizer,
  other; each share is turned into ms per step with the longer run's img/s. The Linux kernel's
  own samples (page faults, scheduling) are left out of the table and printed below it as a share
  of each run's samples: they are mostly the warm-up's page faults, a one-off that varies from
  run to run by more than a steady step's kernel time, so a difference would be noise; a share
  that halves from the short run to the long one says they do not recur per step. Under the
  table, rkan-repro's conv time by part: the GEMM micro-kernels (OpenBLAS's and the own Winograd
  GEMM's), the packing of the operands (both), OpenBLAS's pass over C for `beta = 0`, the Winograd
  transforms, im2col/col2im, the rest (oneDNN's conv time is one number). `--show-other K` lists the K symbols with most samples in "other".
- PyTorch: the peer of `Tools/bench/peer_torch.py` (the twin model, channels-last, the same batch,
  size and threads), `torch.profiler` over N steps after 2 warm-up steps; self CPU time per op,
  grouped the same way (conv = `mkldnn_convolution`/`convolution_backward` and the like; the
  profiler counts the kernel's time inside an op as the op's, so PyTorch has no kernel row). The
  script re-executes itself under the faster glibc malloc setting of `compare.py`
  (`TORCH_ALLOCATORS["glibc-no-trim"]`), so the peer does not page-fault its activations in.
Prints a markdown table per row and mode (ms per step, and the ratio), with the CPU model, the
OpenBLAS core and the threads, and under it how many of rkan-repro's threads were busy in the timed steps (the bench's
`busyThreads`: its CPU time per wall second), so how much of the step a thread spent waiting (idle
time has no samples). Needs `perf` (linux-perf) and PyTorch; a developer tool: the tests
run only `--self-test` (no perf, no PyTorch: `nm` lists the binary's C kernel symbols, and each must
fall into its category, so a kernel added or renamed without one fails instead of landing in
"other").
"""
import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import time

from Tools import ROOT
from Tools.bench import compare  # rows, `machine`, `last_json`, the binary's folder

CATEGORIES = ["conv", "batchnorm", "relu", "memset/memmove", "add / accumulate", "pooling", "optimizer", "other"]
# CKernels' builds are `name_sse2`, `name_avx2`, `name_avx2w` (AVX2 running the AVX-512 code) and
# `name_avx512` (vec.h, RKAN_BUILDS): a kernel is its name with that suffix, on every CPU.
BUILD_SUFFIX = re.compile(r"_(sse2|avx2w|avx2|avx512)$")
# CKernels/winograd.c (tile and weight transforms).
WINOGRAD_KERNELS = {"input", "input4", "output", "output4", "output_grad", "output_grad4", "weights", "weight_grad"}
# CKernels/wino_gemm.c, the own GEMM of the Winograd forward and input gradient: its register
# blocks and their loop (inlined into rkan_wino_gemm when the compiler chooses) and the packing of U's planes.
OWN_GEMM_KERNELS = {"rkan_wino_gemm", "wino_gemm_blocks", "block16_fma", "block8_fma", "block_scalar"}
OWN_GEMM_PACKING = {"rkan_wino_gemm_pack"}
# CKernels/pointwise.c (BatchNorm, ReLU and the residual add).
POINTWISE_KERNELS = {"bn_apply": "batchnorm", "bn_sums": "batchnorm", "bn_dx": "batchnorm",
                     "relu": "relu", "relu_backward": "relu", "add": "add / accumulate"}
# The kernels' entry points, into which the compiler inlines the SSE2 build: they take the samples
# of SSE2-only CPUs and of RKAN_KERNELS=sse2.
ENTRY_POINTS = {"rkan_bn_apply": "batchnorm", "rkan_bn_sums": "batchnorm", "rkan_bn_backward_dx": "batchnorm",
                "rkan_relu": "relu", "rkan_relu_backward": "relu", "rkan_add": "add / accumulate"}
WINOGRAD_ENTRY = re.compile(r"^rkan_wino4?_(input|output|output_grad|weights|weight_grad)$")
INIT = re.compile(r"Philox|initialize|__log|__cos|__sin|__exp|__ieee754_(log|exp)|^(log|cos|sin|exp)@@")


def ours_category(symbol):
    """Category of one of rkan-repro's symbols, or None for the one-off initialisation."""
    if INIT.search(symbol):
        return None
    if "sgemm" in symbol or conv_part(symbol) != "conv, the rest":
        return "conv"
    base = BUILD_SUFFIX.sub("", symbol)
    if base in POINTWISE_KERNELS and base != symbol:
        return POINTWISE_KERNELS[base]
    if symbol in ENTRY_POINTS:
        return ENTRY_POINTS[symbol]
    if "BatchNorm" in symbol:
        return "batchnorm"
    if "relu" in symbol.lower():
        return "relu"
    if "memset" in symbol or "memmove" in symbol or "memcpy" in symbol:
        return "memset/memmove"
    if "addForward" in symbol or "accumulate" in symbol or "ShardFold" in symbol or "addInPlace" in symbol:
        return "add / accumulate"
    if "ool" in symbol:
        return "pooling"
    if "SGD" in symbol or "AdamW" in symbol:
        return "optimizer"
    return "other"


def torch_category(op):
    if "conv" in op or "mkldnn" in op:
        return "conv"
    if "batch_norm" in op:
        return "batchnorm"
    if "relu" in op or "threshold" in op or "clamp_min" in op:   # eager ReLU(inplace) runs as clamp_min_
        return "relu"
    if op in ("aten::add_", "aten::add"):
        return "add / accumulate"
    if "pool" in op:
        return "pooling"
    if "_foreach" in op or "sgd" in op.lower():
        return "optimizer"
    if op in ("aten::zero_", "aten::fill_", "aten::copy_", "aten::clone", "aten::empty", "aten::empty_like"):
        return "memset/memmove"
    return "other"


def perf_samples(spec, mode, batch, size, iters, a):
    """(samples per (symbol, is kernel), bench JSON) of one `perf record` of `rkan-repro bench`."""
    folder = tempfile.mkdtemp(prefix="rkan-where-")
    try:
        data = os.path.join(folder, "perf.data")
        cmd = [compare.ours_binary(), "bench", spec, "--size", str(size), "--batch", str(batch),
               "--mode", mode, "--classes", "100", "--threads", str(a.threads), "--warmup", "1",
               "--iterations", str(iters), "--repeats", "1", "--json"] + compare.blas_core_args(a)
        out = compare.run(["perf", "record", "-q", "-F", "499", "-o", data, "--"] + cmd)
        j = compare.last_json(out)
        report = compare.run(["perf", "report", "-i", data, "--no-children", "--sort", "symbol", "--stdio", "-n"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    samples = collections.Counter()
    for line in report.splitlines():
        m = re.match(r"\s+[0-9.]+%\s+([0-9]+)\s+\[(.)\]\s+(\S+)", line)
        if m:
            samples[(m.group(3), m.group(2) == "k")] += int(m.group(1))
    if not samples:
        raise SystemExit(f"perf recorded no samples of {spec} {mode} (perf report printed no sample counts)")
    return samples, j


CONV_PARTS = ["GEMM micro-kernel", "GEMM packing", "GEMM scaling of C", "Winograd transforms", "im2col / col2im", "conv, the rest"]


def conv_part(symbol):
    """Which part of the conv time one of rkan-repro's "conv" symbols is (OpenBLAS names its
    kernels sgemm_kernel_CORE, its packing sgemm_{on,ot,in,it}copy_CORE and its pass over C for
    beta != 1 sgemm_beta_CORE; the own Winograd GEMM's kernel and packing count as the GEMM's)."""
    if "sgemm_kernel" in symbol or symbol in OWN_GEMM_KERNELS:
        return "GEMM micro-kernel"
    if re.search(r"sgemm_(on|ot|in|it)copy", symbol) or symbol in OWN_GEMM_PACKING:
        return "GEMM packing"
    if "sgemm_beta" in symbol:
        return "GEMM scaling of C"
    base = BUILD_SUFFIX.sub("", symbol)
    if "Winograd" in symbol or (base != symbol and base in WINOGRAD_KERNELS) or WINOGRAD_ENTRY.match(symbol):
        return "Winograd transforms"
    if "im2col" in symbol or "col2im" in symbol:
        return "im2col / col2im"
    return "conv, the rest"


def kernel_share(samples):
    """% of a run's samples that the Linux kernel took."""
    return 100 * sum(n for (_, kernel), n in samples.items() if kernel) / max(1, sum(samples.values()))


def profile_ours(spec, mode, batch, size, a):
    """(ms per step by category, img/s, core, top "other" symbols, kernel % of the short and the
    long run, conv parts, busy threads) of rkan-repro: the user-space samples of `a.iters` steady
    steps (a run of 2·iters steps minus a run of iters steps); busy threads: the bench's own CPU time
    per wall second over the long run's timed steps (`busyThreads`), None from an older binary."""
    short, _ = perf_samples(spec, mode, batch, size, a.iters, a)
    long, j = perf_samples(spec, mode, batch, size, 2 * a.iters, a)
    shares, other, parts = collections.Counter(), collections.Counter(), collections.Counter()
    for (symbol, kernel), n in long.items():
        if kernel:
            continue
        steady = n - short.get((symbol, kernel), 0)
        c = ours_category(symbol)
        if c:
            shares[c] += steady
            if c == "other":
                other[symbol] += steady
            if c == "conv":
                parts[conv_part(symbol)] += steady
    total = sum(shares.values())
    if total <= 0:
        raise SystemExit(f"{spec} {mode}: the run of {2 * a.iters} steps has no more samples than the run of {a.iters}; "
                         "raise --iters")
    step_ms = batch / j["imagesPerSecond"] * 1000
    busy = j.get("busyThreads")
    return ({c: step_ms * shares[c] / total for c in CATEGORIES}, j["imagesPerSecond"], j.get("blasCore", "?"),
            [(s, 100 * n / total) for s, n in other.most_common(a.show_other)], (kernel_share(short), kernel_share(long)),
            {c: step_ms * parts[c] / total for c in CONV_PARTS}, busy)


def profile_torch(spec, mode, batch, size, a):
    """(ms per step by category, img/s) of the PyTorch peer from torch.profiler."""
    import torch
    from Tools.bench import peer_torch   # the peer's own step (same model, batch, optimizer as compare.py's peer)
    torch.set_num_threads(a.threads)
    step = peer_torch.make_step(spec, mode, batch, size, 100, "channels_last")
    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(a.iters):
        step()
    img_s = batch * a.iters / (time.perf_counter() - t0)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as p:
        for _ in range(a.iters):
            step()
    ms = collections.Counter()
    for e in p.key_averages():
        ms[torch_category(e.key)] += e.self_cpu_time_total / a.iters / 1000
    return {c: ms[c] for c in CATEGORIES}, img_s


def selftest(binary):
    """Every C kernel of `binary` (its text symbols with a build suffix, the kernels' entry points
    and the own Winograd GEMM, as `nm` lists them) falls into a category other than "other", and a
    conv kernel into a part other than "the rest": a kernel renamed or added without its category
    here would otherwise leave the tables quietly wrong."""
    import subprocess
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"where_time_goes.py --self-test: no {binary}: build it first (swift build -c release --product rkan-repro)")
    try:
        listed = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"where_time_goes.py --self-test: nm {binary} failed ({e}); install binutils")
    names = {w[2] for w in (line.split() for line in listed.splitlines()) if len(w) == 3 and w[1] in "tT"}
    # rkan_kernels_* set the builds up (rkan_kernels_wide_on_avx2): not kernels.
    kernels = sorted(n for n in names if not n.startswith("rkan_kernels_") and (
        BUILD_SUFFIX.search(n) or n in ENTRY_POINTS or WINOGRAD_ENTRY.match(n) or n in OWN_GEMM_KERNELS or n in OWN_GEMM_PACKING))
    wrong = []
    for n in kernels:
        c = ours_category(n)
        if c is None or c == "other" or (c == "conv" and conv_part(n) == "conv, the rest"):
            wrong.append(f"{n}: {c}" + (f" / {conv_part(n)}" if c == "conv" else ""))
    # 14 kernels in 3 out-of-line builds, their entry points, the own GEMM and its packing.
    if len(kernels) < 14 * 3 + 14 + 2:
        wrong.append(f"only {len(kernels)} kernel symbols found in {binary}: {', '.join(kernels)}")
    for n in ("rkan_wino_gemm", "rkan_wino_gemm_pack"):
        if n not in names:
            wrong.append(f"{n} is not a symbol of {binary}")
    if wrong:
        raise SystemExit("where_time_goes.py --self-test: symbols without their category:\n  " + "\n  ".join(wrong))
    print(f"where_time_goes self-test: ok ({len(kernels)} kernel symbols categorised)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="resnet18,resnet50", help="comma-separated: resnet18, resnet50 or full specs of compare.py's rows")
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--blas-core", default=None)
    ap.add_argument("--show-other", type=int, default=0, metavar="K", help='list the K symbols with most samples in "other"')
    ap.add_argument("--self-test", action="store_true",
                    help="check that every C kernel symbol of the binary has its category (no perf, no PyTorch), then exit")
    ap.add_argument("--binary", default=None, help="the rkan-repro binary (default: .build/release/rkan-repro)")
    a = ap.parse_args()
    if a.binary:
        compare.OURS = a.binary
    if a.self_test:
        return selftest(compare.ours_binary())
    fast = compare.TORCH_ALLOCATORS["glibc-no-trim"]
    if any(os.environ.get(k) != v for k, v in fast.items()):
        # The peer at its faster malloc setting (compare.py's TORCH_ALLOCATORS; it must be set
        # before the process starts). rkan-repro's own speed does not depend on it.
        path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
        os.execve(sys.executable, [sys.executable, "-m", __spec__.name, *sys.argv[1:]],
                  {**os.environ, **fast, "PYTHONPATH": path})
    if not shutil.which("perf"):
        raise SystemExit("perf is not installed (Debian: apt-get install linux-perf); it profiles rkan-repro")
    compare.require_built("where_time_goes.py", [compare.ours_binary()])
    short = {"resnet18": "resnet18(stem=small)", "resnet50": "resnet50"}
    wanted = [short.get(r, r) for r in a.rows.split(",")]
    rows = [r for r in compare.ROWS if r[0] in wanted]
    if len(rows) != len(wanted):
        raise SystemExit(f"--rows: {a.rows} names a row that is not in compare.py's ROWS ({', '.join(r[0] for r in compare.ROWS)})")
    model, vendor, cpus = compare.machine()
    for spec, batch, size in rows:
        for mode in a.modes.split(","):
            mine, mine_img, core, other, kernel, parts, busy = profile_ours(spec, mode, batch, size, a)
            peer, peer_img = profile_torch(spec, mode, batch, size, a)
            print(f"\n`{spec}`, {size}², batch {batch}, {mode}: {model} ({vendor}, {cpus} logical CPUs), {a.threads} threads, "
                  f"OpenBLAS core {core}; rkan-repro {mine_img:.1f} img/s, PyTorch (channels-last) {peer_img:.1f} img/s "
                  f"({mine_img / peer_img:.2f}×)\n")
            print("| ms per step | rkan-repro | PyTorch | PyTorch ÷ rkan-repro |")
            print("|---|---:|---:|---:|")
            for c in CATEGORIES:
                r = f"{peer[c] / mine[c]:.2f}" if mine[c] >= 0.5 else "–"
                print(f"| {c} | {mine[c]:.0f} | {peer[c]:.0f} | {r} |")
            print(f"| **total** | {sum(mine.values()):.0f} | {sum(peer.values()):.0f} | {sum(peer.values()) / sum(mine.values()):.2f} |")
            print("\nrkan-repro's conv by part, ms per step: " + ", ".join(f"{c} {parts[c]:.0f}" for c in CONV_PARTS))
            print(f"\nLinux kernel (page faults, scheduling; not in the table): {kernel[0]:.1f} % of the samples of the "
                  f"{a.iters}-step run, {kernel[1]:.1f} % of the {2 * a.iters}-step run.")
            if busy is not None:
                print(f"\nrkan-repro's threads in the timed steps (its CPU time per wall second, `busyThreads`): "
                      f"{busy:.2f} of {a.threads} busy, so {100 * (1 - busy / a.threads):.1f} % of threads × wall time "
                      f"idle: a thread waiting for another at the end of a parallel region, or a serial section. The "
                      f"table spreads the step's wall time over the samples, so that idle time sits inside its rows "
                      f"in proportion.")
            if other:
                print("\nrkan-repro's \"other\": " + ", ".join(f"`{sym}` {pct:.1f} %" for sym, pct in other))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
