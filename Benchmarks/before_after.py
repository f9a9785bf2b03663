#!/usr/bin/env python3
"""Single-process img/s of two rkan-repro binaries on the speed table's rows (an A/B, not a test).

    python3 Benchmarks/before_after.py --before OLD/rkan-repro --after .build/release/rkan-repro \
        [--rounds 3] [--warmup 2] [--iters 4] [--only resnet50] [--modes train,infer]

For a change that must not cost speed (issue 16: "single-process speed unchanged within noise"):
the rows and settings of `Benchmarks/compare.py` (same specs, batches, sizes, threads), each
binary run as `rkan-repro bench ... --repeats 1 --json`, in rounds that alternate the order
(before, after in odd rounds; after, before in even ones) so that drift of a shared machine does
not favour one side. Prints a markdown table of every invocation, the medians and after ÷ before,
with the CPU model, the OpenBLAS core each binary used, the threads and the load averages.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the rows, `ours` and the machine description)


def bench(binary, spec, mode, batch, size, a):
    """(img/s, OpenBLAS core, conv algorithm) of one invocation of `binary`."""
    saved = compare.OURS
    compare.OURS = os.path.abspath(binary)
    try:
        return compare.ours(spec, mode, batch, size, a)
    finally:
        compare.OURS = saved


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", required=True, help="the rkan-repro binary before the change (any file name)")
    p.add_argument("--after", required=True, help="the binary after the change")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=4)
    p.add_argument("--modes", default="train,infer")
    p.add_argument("--only", default="resnet18(stem=small),resnet50",
                   help="comma-separated specs (exact) of compare.py's rows")
    p.add_argument("--blas-core", default=None)
    a = p.parse_args()
    for b in (a.before, a.after):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"before_after.py: {b} is not an executable rkan-repro binary; build it first")
    wanted = a.only.split(",")
    rows = [r for r in compare.ROWS if r[0] in wanted]
    if not rows:
        raise SystemExit(f"before_after.py: --only {a.only} names none of compare.py's rows "
                         f"({', '.join(r[0] for r in compare.ROWS)})")
    model, vendor, cpus = compare.machine()
    print(f"{model} ({vendor}), {cpus} logical CPUs, {a.threads} threads; before {a.before}, after {a.after}",
          file=sys.stderr)
    results = {}   # (spec, mode) -> {"before": [...], "after": [...]}
    cores = {}
    for rnd in range(a.rounds):
        for spec, batch, size in rows:
            for mode in a.modes.split(","):
                order = ["before", "after"] if rnd % 2 == 0 else ["after", "before"]
                for side in order:
                    load = compare.loadavg()
                    ips, core, algo = bench(getattr(a, side), spec, mode, batch, size, a)
                    results.setdefault((spec, mode), {"before": [], "after": []})[side].append((ips, load))
                    cores[side] = f"{core}, {algo}"
                    print(f"round {rnd + 1} {spec} {mode} {side}: {ips:.1f} img/s (load {load})", file=sys.stderr)
    print(f"Machine: {model}, {cpus} logical CPUs, {a.threads} threads; OpenBLAS core / conv algorithm: "
          f"before {cores.get('before')}, after {cores.get('after')}; {a.rounds} alternating rounds, "
          f"warm-up {a.warmup}, {a.iters} timed steps each.\n")
    print("| model | size, batch | mode | before img/s (each round) | after img/s (each round) | after ÷ before (medians) |")
    print("|---|---|---|---|---|---:|")
    for spec, batch, size in rows:
        for mode in a.modes.split(","):
            r = results[(spec, mode)]
            b, f = [x for x, _ in r["before"]], [x for x, _ in r["after"]]
            ratio = statistics.median(f) / statistics.median(b)
            print(f"| `{spec}` | {size}², {batch} | {mode} | {', '.join(f'{x:.1f}' for x in b)} | "
                  f"{', '.join(f'{x:.1f}' for x in f)} | {ratio:.3f} |")
    print(f"\nLoad averages during the runs: {min(l for r in results.values() for s in r.values() for _, l in s)} "
          f"… {max(l for r in results.values() for s in r.values() for _, l in s)}")


if __name__ == "__main__":
    main()
