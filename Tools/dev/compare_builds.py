#!/usr/bin/env python3
"""Two builds of rkan-repro compared: same bytes, same run files, same speed.

    python3 -m Tools.dev.compare_builds bytes --before OLD/rkan-repro --after NEW/rkan-repro SPEC [SPEC ...] \\
        [--classes 10] [--size 64] [--batch 4] [--seed 3] [--threads 2]
    python3 -m Tools.dev.compare_builds runs BEFORE_RUNS AFTER_RUNS
    python3 -m Tools.dev.compare_builds bytes --before B --after B --before-env RKAN_KERNELS=sse2 SPEC   # one binary, two builds of its C kernels
    python3 -m Tools.dev.compare_builds speed --before OLD/rkan-repro --after NEW/rkan-repro \\
        [--rounds 9] [--warmup 2] [--iters 4] [--only resnet50] [--modes train,infer] [--retries 2]

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
       many short rounds that alternate the order (before, after in odd rounds; after, before in
       even ones) so that drift of a shared machine does not favour one side. Every invocation
       records the CPU steal, the CPU used by other processes and the load average
       (Tools/bench/noise.py), and, when this checkout's rkan-bench is built, a speed probe (a 2048³
       sgemm) before and after it; a round under heavy steal (> 10 %) or other work (> 25 %), or
       with a probe below 85 % of the session's fastest, runs again (--retries) and stays out of
       the medians if it remained heavy while others were clean.
       Prints a markdown table: each side's median img/s with IQR and min–max, after ÷ before as
       the median of the per-round ratios with its IQR and min–max, and the rounds used; then every
       invocation, with the CPU model, the OpenBLAS core each binary used and the noise. An A/B,
       not a test.

A developer tool; never run by the tests, since it needs a second build.
"""
import argparse
import filecmp
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from Tools.bench import compare, noise


def executable(path, tool):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise SystemExit(f"compare_builds {tool}: {path} is not an executable rkan-repro binary; build it first "
                         f"(swift build -c release --product rkan-repro) or name the binary's file")
    return os.path.abspath(path)


# bytes ------------------------------------------------------------------------------------------

def env_arg(pairs, option):
    """{VAR: VALUE} from --before-env/--after-env VAR=VALUE options."""
    out = {}
    for p in pairs or []:
        k, eq, v = p.partition("=")
        if not eq or not k:
            raise SystemExit(f"compare_builds: {option} {p!r} is not VAR=VALUE (e.g. {option} RKAN_KERNELS=avx2)")
        out[k] = v
    return out


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
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
    envs = {"before": env_arg(a.before_env, "--before-env"), "after": env_arg(a.after_env, "--after-env")}
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
                    run(cmd, envs[tag])
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

    envs = {"before": env_arg(a.before_env, "--before-env"), "after": env_arg(a.after_env, "--after-env")}

    def bench(side, spec, mode, batch, size):
        """(img/s, OpenBLAS core, conv algorithm) of one invocation of `side`'s binary."""
        saved = compare.OURS
        compare.OURS = binaries[side]
        try:
            return compare.ours(spec, mode, batch, size, a, env=envs[side])
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
    modes = a.modes.split(",")
    results = {(spec, mode): noise.new_result(["before", "after"]) for spec, _, _ in rows for mode in modes}
    probe = compare.speed_probe(a)
    if probe is None and a.probe_limit > 0:
        print(f"compare_builds speed: no speed probe ({compare.bench_binary()} is not built: "
              "swift build -c release --product rkan-bench); rounds are judged by steal and other CPU use only",
              file=sys.stderr)
    cores = {}
    for rnd in range(a.rounds):
        for spec, batch, size in rows:
            for mode in modes:
                def side(which, spec=spec, batch=batch, size=size, mode=mode):
                    ips, core, algo = bench(which, spec, mode, batch, size)
                    cores[which] = f"{core}, {algo}"
                    return ips
                noise.one_round(results[(spec, mode)], rnd, side, retries=a.retries, steal_limit=a.steal_limit,
                                others_limit=a.others_limit, label=f" {spec} {mode}",
                                log=lambda m: print(m, file=sys.stderr), probe=probe, probe_limit=a.probe_limit)
    print(f"Machine: {model}, {cpus} logical CPUs, {a.threads} threads; OpenBLAS core / conv algorithm: "
          f"before {cores.get('before')}, after {cores.get('after')}; "
          + "".join(f"{side} with {' '.join(f'{k}={v}' for k, v in e.items())}; " for side, e in envs.items() if e)
          + f"{a.rounds} alternating rounds, "
          f"warm-up {a.warmup}, {a.iters} timed steps each; heavy: steal > {a.steal_limit:.0f} % or other "
          f"processes > {a.others_limit:.0f} % of the CPU time of an invocation"
          + (f", or a speed probe (2048³ sgemm before and after each invocation) below {a.probe_limit:.0f} % of the "
             f"session's fastest, {probe.best:.0f} GFLOP/s" if probe and probe.best else "")
          + f" (run again up to {a.retries} times).\n")
    print("| model | size, batch | mode | before img/s | after img/s | after ÷ before (per-round) | rounds used |")
    print("|---|---|---|---|---|---|---:|")
    for spec, batch, size in rows:
        for mode in modes:
            r = noise.finish(results[(spec, mode)])
            print(f"| `{spec}` | {size}², {batch} | {mode} | {noise.fmt_spread(noise.used(r, 'before'))} | "
                  f"{noise.fmt_spread(noise.used(r, 'after'))} | {noise.fmt_spread(noise.ratios(r, 'after', 'before'), 3)} | "
                  f"{len(r['used'])}/{len(r['heavy'])} |")
    print("\nEvery round (before; after; * heavy) and its noise:\n")
    for spec, batch, size in rows:
        for mode in modes:
            r = results[(spec, mode)]
            cells = [f"{b:.1f}; {f:.1f}{'*' if h else ''}" for b, f, h in
                     zip(r["values"]["before"], r["values"]["after"], r["heavy"])]
            print(f"- `{spec}` {mode}: {' | '.join(cells)} — {noise.summary_line(r)}")
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
    s.add_argument("--rounds", type=int, default=9, help="alternating rounds (short invocations: many rounds)")
    compare.add_noise_options(s)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--classes", type=int, default=100)
    s.add_argument("--warmup", type=int, default=2)
    s.add_argument("--iters", type=int, default=4)
    s.add_argument("--modes", default="train,infer")
    s.add_argument("--only", default="resnet18(stem=small),resnet50",
                   help="comma-separated specs (exact) of Tools/bench/compare.py's rows")
    s.add_argument("--blas-core", default=None)

    for p in (b, s):
        p.add_argument("--before-env", action="append", metavar="VAR=VALUE",
                       help="set in the before binary's environment (repeatable), e.g. RKAN_KERNELS=avx2 to compare "
                            "the C kernels' builds in one binary")
        p.add_argument("--after-env", action="append", metavar="VAR=VALUE", help="the same for the after binary")
    a = ap.parse_args()
    sys.exit({"bytes": same_bytes, "runs": same_runs, "speed": same_speed}[a.what](a))


if __name__ == "__main__":
    main()
