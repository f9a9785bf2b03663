#!/usr/bin/env python3
"""Throughput per OpenBLAS core: the same model rows under Prescott (what OpenBLAS 0.3.21 falls
back to on CPUs it does not know), the best core for this CPU and the portable core (Haswell),
beside PyTorch in both memory formats (the faster one is the peer). Prints a Markdown table.

    python3 -m Tools.bench.compare_cores                                   # quick protocol
    python3 -m Tools.bench.compare_cores --warmup 10 --iters 40 --repeats 3 --only resnet18

Each round runs every row once per core (`rkan-repro bench --blas-core C`) and once in PyTorch
(`Tools/bench/peer_torch.py --memory-format auto`), alternating, so every column draws on the same
stretches of machine load; the table gives the median over rounds and the load averages seen.
Needs the release build (`swift build -c release`) and torch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from Tools import ROOT
from Tools.bench import compare
from Tools.bench.compare import PEER

BIN = os.path.join(ROOT, ".build", "release", "rkan-repro")
ROWS = [("resnet18(stem=small)", 128, 32), ("resnet18(stem=small)+rkan", 128, 32),
        ("resnet50", 32, 128), ("resnet50+rkan(inv=4)", 32, 128)]
CORES = ["prescott", "best", "portable"]


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"no JSON in output:\n{text}")


def run(cmd):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "RKAN_BLAS_CORE")}
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return last_json(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3, help="rounds (median reported)")
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--only", default="", help="comma-separated specs of the table to keep (exact names)")
    a = ap.parse_args()
    keep = [s for s in a.only.split(";" if ";" in a.only else ",") if s]
    rows = [r for r in ROWS if not keep or r[0] in keep]
    if not rows:
        raise SystemExit(f"--only {a.only!r} names none of {[r[0] for r in ROWS]}")
    compare.require_built("compare_cores.py", [BIN])
    modes = a.modes.split(",")
    ours = {}    # (spec, mode, core) → [img/s]
    names = {}   # core choice → core name that ran
    torch = {}   # (spec, mode, format) → [img/s]
    loads = []
    for r in range(a.repeats):
        for spec, batch, size in rows:
            for mode in modes:
                common = ["--batch", str(batch), "--size", str(size), "--mode", mode, "--threads", str(a.threads)]
                for core in CORES:
                    j = run([BIN, "bench", spec, *common, "--warmup", str(a.warmup), "--iterations", str(a.iters),
                             "--repeats", "1", "--json", "--blas-core", core])
                    ours.setdefault((spec, mode, core), []).append(j["imagesPerSecond"])
                    names[core] = j["blasCore"]
                t = run([*PEER, "--spec", spec, *common,
                         "--warmup", str(a.warmup), "--iters", str(a.iters), "--repeats", "1", "--memory-format", "auto"])
                for fmt, v in t["img_s_by_format"].items():
                    torch.setdefault((spec, mode, fmt), []).append(v)
                loads.append(os.getloadavg()[0])
                print(f"round {r + 1}: {spec} {mode} done, load {loads[-1]:.1f}", file=sys.stderr)
    med = statistics.median
    print(f"Threads {a.threads}; warm-up {a.warmup}, {a.iters} timed steps, median of {a.repeats} rounds; "
          f"load average (1 min) during the runs {min(loads):.1f}–{max(loads):.1f}.\n")
    print(f"| model | mode | Prescott | best ({names['best']}) | portable ({names['portable']}) | PyTorch contiguous | "
          "PyTorch channels-last | best / PyTorch | portable / best |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for spec, batch, size in rows:
        for mode in modes:
            p, b, q = (med(ours[(spec, mode, c)]) for c in CORES)
            tc, tl = med(torch[(spec, mode, "contiguous")]), med(torch[(spec, mode, "channels_last")])
            print(f"| {spec}, {size}², batch {batch} | {mode} | {p:.1f} | {b:.1f} | {q:.1f} | {tc:.1f} | {tl:.1f} | "
                  f"{b / max(tc, tl):.2f}× | {q / b:.2f} |")


if __name__ == "__main__":
    main()
