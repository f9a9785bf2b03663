#!/usr/bin/env python3
"""Two builds of rkan-repro compared: same bytes, same run files, same speed.

    python3 -m Tools.dev.compare_builds bytes --before OLD/rkan-repro --after NEW/rkan-repro SPEC [SPEC ...] \\
        [--classes 10] [--size 64] [--batch 4] [--seed 3] [--threads 2]
    python3 -m Tools.dev.compare_builds runs BEFORE_RUNS AFTER_RUNS
    python3 -m Tools.dev.compare_builds speed --before OLD/rkan-repro --after NEW/rkan-repro \\
        [--rounds 3] [--warmup 2] [--iters 4] [--only resnet50] [--modes train,infer]

For a change that must not change arithmetic, or must not cost speed:

bytes  For each model spec, `rkan-repro init` (the after binary) writes the spec's initial weights
       for --seed; both binaries then run `rkan-repro forward` on them and on one fixed random input
       (numpy seed 0), once in eval mode (/logits) and once with --grad (train mode: /logits, /loss
       and /grads/<key> of every parameter). Every dataset of the two outputs must be identical bit
       for bit. Prints one line per spec and exits 1 naming each dataset that differs. Needs numpy
       and h5py.
runs   Two run trees (`--out` of `rkan-repro run`) made by the two builds: for each seed-*.h5 of the
       first, the file of the same relative path in the second must have the same bytes; where they
       differ, every HDF5 object (h5dump text, per object) is compared and the differing ones are
       named. Objects that record time or place (bench values, epoch_seconds, git_commit, host) and
       the digests over them (sha256_bench, sha256_metrics, sha256_attributes) may differ; anything
       else, or a file missing from the second tree, exits 1. Needs h5dump (hdf5-tools).
speed  Single-process img/s on the rows and settings of Tools/bench/compare.py (same specs,
       batches, sizes, threads), each binary run as `rkan-repro bench ... --repeats 1 --json`, in
       rounds that alternate the order (before, after in odd rounds; after, before in even ones) so
       that drift of a shared machine does not favour one side. Prints a markdown table of every
       invocation, the medians and after ÷ before, with the CPU model, the OpenBLAS core each binary
       used, the threads and the load averages. An A/B, not a test.

A developer tool; never run by the tests, since it needs a second build.
"""
import argparse
import filecmp
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def executable(path, tool):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise SystemExit(f"compare_builds {tool}: {path} is not an executable rkan-repro binary; build it first "
                         f"(swift build -c release --product rkan-repro) or name the binary's file")
    return os.path.abspath(path)


# bytes ------------------------------------------------------------------------------------------

def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"compare_builds: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stderr[-2000:]}")


def datasets(path):
    import h5py
    import numpy as np
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda k, v: out.__setitem__(k, np.asarray(v[()]).tobytes()) if isinstance(v, h5py.Dataset) else None)
    return out


def same_bytes(a):
    import h5py
    import numpy as np
    before, after = executable(a.before, "bytes"), executable(a.after, "bytes")
    differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.h5")
        rng = np.random.default_rng(0)
        with h5py.File(x, "w") as f:
            f["input"] = rng.standard_normal((a.batch, 3, a.size, a.size)).astype(np.float32)
            f["labels"] = rng.integers(0, a.classes, a.batch).astype(np.int64)
        for spec in a.specs:
            w = os.path.join(tmp, "w.h5")
            run([after, "init", spec, "--classes", str(a.classes), "--seed", str(a.seed), "--out", w, "--force"])
            compared = 0
            for grad in (False, True):
                outs = []
                for tag, binary in (("before", before), ("after", after)):
                    y = os.path.join(tmp, f"y_{tag}_{int(grad)}.h5")
                    cmd = [binary, "forward", "--model", spec, "--classes", str(a.classes), "--weights", w,
                           "--input", x, "--output", y, "--threads", str(a.threads)] + (["--grad"] if grad else [])
                    run(cmd)
                    outs.append(datasets(y))
                mode = "train" if grad else "eval"
                if set(outs[0]) != set(outs[1]):
                    differ += 1
                    print(f"DIFFER {spec} ({mode}): datasets {sorted(set(outs[0]) ^ set(outs[1]))} in one output only")
                for k in sorted(set(outs[0]) & set(outs[1])):
                    compared += 1
                    if outs[0][k] != outs[1][k]:
                        differ += 1
                        print(f"DIFFER {spec} ({mode}): /{k}")
            print(f"{spec}: {compared} datasets compared (eval logits; train logits, loss, every gradient)")
    print("all identical" if differ == 0 else f"{differ} differences")
    return 1 if differ else 0


# runs -------------------------------------------------------------------------------------------

# Objects that record time or place, and the digests computed over them.
VARY = {"git_commit", "host", "sha256_bench", "sha256_metrics", "sha256_attributes", "epoch_seconds",
        "train_img_s", "infer_img_s"}


def h5_objects(path):
    """h5dump's text of `path`, grouped by object path."""
    out = subprocess.run(["h5dump", "-e", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"compare_builds runs: h5dump cannot read {path} (exit {out.returncode}):\n{out.stderr[-1000:]}")
    objs, stack = {}, []
    for line in out.stdout.split("\n"):
        m = re.match(r'^(\s*)(GROUP|DATASET|ATTRIBUTE) "([^"]*)" \{', line)
        if m:
            stack = [s for s in stack if s[0] < len(m.group(1))] + [(len(m.group(1)), m.group(3))]
        if line.startswith('HDF5 "'):
            continue
        objs.setdefault("/".join(s[1] for s in stack), []).append(line.strip())
    return objs


def same_runs(a):
    before, after = pathlib.Path(a.before_runs), pathlib.Path(a.after_runs)
    for p in (before, after):
        if not p.is_dir():
            raise SystemExit(f"compare_builds runs: {p} is not a folder; pass the --out folders of the two runs")
    if not shutil.which("h5dump"):
        raise SystemExit("compare_builds runs: h5dump is not installed (Debian: apt-get install hdf5-tools)")
    files = sorted(before.rglob("seed-*.h5"))
    if not files:
        raise SystemExit(f"compare_builds runs: no seed-*.h5 run file under {before}; nothing to compare")
    bad = 0
    for f in files:
        rel = f.relative_to(before)
        g = after / rel
        if not g.is_file():
            print(f"{rel}: MISSING in {after}")
            bad = 1
            continue
        if filecmp.cmp(f, g, shallow=False):
            print(f"{rel}: identical bytes")
            continue
        ob, oa = h5_objects(f), h5_objects(g)
        diff = sorted(k for k in set(ob) | set(oa) if ob.get(k) != oa.get(k))

        def leaf(k):
            return k.split("/")[-1]
        unexpected = [k for k in diff if leaf(k) not in VARY and not any(p in VARY for p in k.split("/"))]
        expected = ", ".join(leaf(k) for k in diff if leaf(k) in VARY) or "none"
        print(f"{rel}: bytes differ; {len(ob)} objects compared; differing: {expected}"
              + (f"; UNEXPECTED: {unexpected}" if unexpected else "; everything else equal"))
        bad |= bool(unexpected)
    return bad


# speed ------------------------------------------------------------------------------------------

def same_speed(a):
    from Tools.bench import compare  # the rows, `ours` and the machine description

    def bench(binary, spec, mode, batch, size):
        """(img/s, OpenBLAS core, conv algorithm) of one invocation of `binary`."""
        saved = compare.OURS
        compare.OURS = binary
        try:
            return compare.ours(spec, mode, batch, size, a)
        finally:
            compare.OURS = saved

    binaries = {"before": executable(a.before, "speed"), "after": executable(a.after, "speed")}
    wanted = a.only.split(",")
    rows = [r for r in compare.ROWS if r[0] in wanted]
    if not rows:
        raise SystemExit(f"compare_builds speed: --only {a.only} names none of Tools/bench/compare.py's rows "
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
                    ips, core, algo = bench(binaries[side], spec, mode, batch, size)
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
    loads = [load for r in results.values() for s in r.values() for _, load in s]
    print(f"\nLoad averages during the runs: {min(loads)} … {max(loads)}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True, metavar="{bytes,runs,speed}")

    b = sub.add_parser("bytes", help="forward outputs (eval logits; train loss, every gradient) bit for bit")
    b.add_argument("--before", required=True, help="the rkan-repro binary before the change (any file name)")
    b.add_argument("--after", required=True, help="the binary after the change")
    b.add_argument("specs", nargs="+", metavar="SPEC")
    b.add_argument("--classes", type=int, default=10)
    b.add_argument("--size", type=int, default=64)
    b.add_argument("--batch", type=int, default=4)
    b.add_argument("--seed", type=int, default=3)
    b.add_argument("--threads", type=int, default=2)

    r = sub.add_parser("runs", help="two run trees: same run files but for time and place")
    r.add_argument("before_runs", metavar="BEFORE_RUNS", help="run tree (--out of rkan-repro run) of the first build")
    r.add_argument("after_runs", metavar="AFTER_RUNS", help="run tree of the second build")

    s = sub.add_parser("speed", help="single-process img/s A/B on Tools/bench/compare.py's rows")
    s.add_argument("--before", required=True, help="the rkan-repro binary before the change (any file name)")
    s.add_argument("--after", required=True, help="the binary after the change")
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--classes", type=int, default=100)
    s.add_argument("--warmup", type=int, default=2)
    s.add_argument("--iters", type=int, default=4)
    s.add_argument("--modes", default="train,infer")
    s.add_argument("--only", default="resnet18(stem=small),resnet50",
                   help="comma-separated specs (exact) of Tools/bench/compare.py's rows")
    s.add_argument("--blas-core", default=None)

    a = ap.parse_args()
    sys.exit({"bytes": same_bytes, "runs": same_runs, "speed": same_speed}[a.what](a))


if __name__ == "__main__":
    main()
