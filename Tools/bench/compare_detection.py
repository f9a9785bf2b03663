#!/usr/bin/env python3
"""Detector speed of rkan-repro against PyTorch (torchvision's Mask R-CNN around the same
backbone, Tools/bench/peer_detector.py) on the same CPU, in alternated rounds.

    python3 -m Tools.bench.compare_detection                         # maskrcnn(resnet50), 640 px
    python3 -m Tools.bench.compare_detection --specs 'maskrcnn(resnet50)' 'maskrcnn(resnet50+rkan)' \\
        --infer-iters 5 --train-batch 2 --rounds 5

Rows: inference FPS (eval, batch 1, one random 3×S×S image, as the reference's
`measure_inference_speed`) and training img/s (batch `--train-batch`, one object per image,
backward and an SGD step). Every invocation of either side is one short process (warm-up, then
timed iterations); the sides alternate in order from round to round, each invocation records the
CPU steal and the other processes' CPU (Tools/bench/noise.py) and a heavy round runs again. Prints
a markdown table (medians with IQR, rounds used, the per-round ratio ours ÷ PyTorch) with the
machine, OpenBLAS core and threads.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

from Tools import ROOT
from Tools.bench import noise

BIN = os.path.join(ROOT, ".build", "release", "rkan-repro")


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON line in:\n" + text[-2000:])


SEEN = {}


def ours(spec, mode, batch, size, warmup, iters, threads):
    out = subprocess.run([BIN, "bench", spec, "--mode", mode, "--batch", str(batch), "--size", str(size), "--warmup", str(warmup),
                          "--iterations", str(iters), "--repeats", "1", "--threads", str(threads), "--json"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    r = last_json(out.stdout)
    SEEN["core"], SEEN["conv"] = r.get("blasCore", "?"), r.get("convAlgorithm", "?")
    return r["imagesPerSecond"]


def torch_peer(spec, mode, batch, size, warmup, iters, threads):
    out = subprocess.run([sys.executable, "-m", "Tools.bench.peer_detector", "--spec", spec, "--mode", mode, "--batch", str(batch),
                          "--size", str(size), "--warmup", str(warmup), "--iters", str(iters), "--threads", str(threads)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return last_json(out.stdout)["imagesPerSecond"]


def machine():
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} CPUs, {platform.machine()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--specs", nargs="+", default=["maskrcnn(resnet50)"])
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--infer-iters", type=int, default=5)
    ap.add_argument("--train-batch", type=int, default=2)
    ap.add_argument("--train-iters", type=int, default=2)
    ap.add_argument("--modes", nargs="+", default=["infer", "train"], choices=["infer", "train"])
    a = ap.parse_args()
    if not os.access(BIN, os.X_OK):
        sys.exit(f"{BIN} is missing: build it first with `swift build -c release` in {ROOT}")
    rows = []
    for spec in a.specs:
        for mode in a.modes:
            batch, iters = (1, a.infer_iters) if mode == "infer" else (a.train_batch, a.train_iters)

            def call(side, spec=spec, mode=mode, batch=batch, iters=iters):
                f = ours if side == "rkan-repro" else torch_peer
                return f(spec, mode, batch, a.size, a.warmup, iters, a.threads)
            res = noise.alternate(["rkan-repro", "pytorch"], a.rounds, call,
                                  log=lambda s: print(s, file=sys.stderr, flush=True), label=f" {spec} {mode}")
            rows.append((spec, mode, batch, res))
    print(f"Machine: {machine()}; {a.threads} threads; {a.size}×{a.size} images; OpenBLAS core {SEEN.get('core', '?')}, "
          f"3×3 convs {SEEN.get('conv', '?')}; PyTorch: Tools/bench/peer_detector.py")
    print()
    print("| detector | mode | batch | rkan-repro img/s | PyTorch img/s | ratio (ours ÷ PyTorch) | rounds |")
    print("|---|---|---:|---:|---:|---:|---|")
    for spec, mode, batch, res in rows:
        r = noise.ratios(res, "rkan-repro", "pytorch")
        print(f"| `{spec}` | {mode} | {batch} | {noise.fmt_spread(noise.used(res, 'rkan-repro'), 2)} | "
              f"{noise.fmt_spread(noise.used(res, 'pytorch'), 2)} | {noise.fmt_spread(r, 2)} | {noise.summary_line(res)} |")


if __name__ == "__main__":
    main()
