#!/usr/bin/env python3
"""GEMM flops of one training or inference step of rkan-repro, per conv algorithm (the bound on
any GEMM-rate-limited step).

    python3 -m Tools.bench.gemm_flops [--rows resnet18,resnet50] [--algorithms winograd-mixed,im2col,winograd-f4a]

Builds `Tools/bench/count_sgemm.c` (an LD_PRELOAD shim that counts 2·m·n·k of every
`cblas_sgemm` and forwards the call) with the system C compiler into a temporary folder, then runs
`rkan-repro bench SPEC --warmup 0 --iterations 1 --repeats 1` for each row of `Tools/bench/compare.py`
asked for, mode and algorithm (`RKAN_CONV_ALGO`), and prints a markdown table of GFLOP per step.
With `im2col` every conv is a GEMM over the direct convolution's flops, so that column is what a
direct-convolution peer (oneDNN) computes; the ratio of the default's flops to it bounds how far
ahead any GEMM-rate-limited step can get. Together with the machine's sgemm rate (`rkan-bench
sgemm`) and the peer's step time it gives the fastest step possible with zero time outside GEMMs.
A developer tool; needs a C compiler; never run by the tests.
"""
import argparse
import os
import re
import subprocess
import tempfile

from Tools.bench import compare  # rows, binary folder, machine description

HERE = os.path.dirname(os.path.abspath(__file__))


def build_shim(folder):
    out = os.path.join(folder, "count_sgemm.so")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", out, os.path.join(HERE, "count_sgemm.c"), "-ldl"],
                   check=True)
    return out


def step_flops(shim, spec, mode, batch, size, algorithm, classes):
    env = dict(os.environ, LD_PRELOAD=shim, RKAN_CONV_ALGO=algorithm)
    cmd = [compare.ours_binary(), "bench", spec, "--size", str(size), "--batch", str(batch),
           "--mode", mode, "--warmup", "0", "--iterations", "1", "--repeats", "1", "--threads", "1",
           "--classes", str(classes)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    m = re.search(r"gemm_flops: calls (\d+) flops (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise SystemExit(f"gemm_flops.py: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
    return int(m.group(1)), int(m.group(2))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="resnet18(stem=small),resnet50", help="compare.py rows (comma-separated)")
    p.add_argument("--modes", default="infer,train")
    p.add_argument("--algorithms", default="winograd-mixed,winograd-f4a,im2col")
    p.add_argument("--classes", type=int, default=100)
    a = p.parse_args()
    wanted = a.rows.split(",")
    rows = [r for r in compare.ROWS if r[0] in wanted]
    if not rows:
        raise SystemExit(f"gemm_flops.py: --rows {a.rows} names none of compare.py's rows ({', '.join(r[0] for r in compare.ROWS)})")
    algorithms = a.algorithms.split(",")
    if not os.access(compare.ours_binary(), os.X_OK):
        raise SystemExit(f"gemm_flops.py: no {compare.ours_binary()}: build it first (swift build -c release)")
    with tempfile.TemporaryDirectory() as tmp:
        shim = build_shim(tmp)
        model, vendor, cpus = compare.machine()
        print(f"GEMM GFLOP per step (cblas_sgemm calls counted by an LD_PRELOAD shim); {model} ({vendor}, {cpus} logical CPUs)\n")
        print("| row | mode | " + " | ".join(algorithms) + " | " +
              " | ".join(f"{x} ÷ {algorithms[-1]}" for x in algorithms[:-1]) + " |")
        print("|---|---|" + "---:|" * (2 * len(algorithms) - 1))
        for row in rows:
            spec, batch, size = row[0], row[1], row[2]
            for mode in a.modes.split(","):
                got = [step_flops(shim, spec, mode, batch, size, alg, a.classes)[1] / 1e9 for alg in algorithms]
                cells = [f"{g:.1f}" for g in got] + [f"{g / got[-1]:.2f}" for g in got[:-1]]
                print(f"| `{spec}`, {size}², b{batch} | {mode} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
