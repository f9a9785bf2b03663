#!/usr/bin/env python3
"""GEMM flops of one training or inference step of rkan-repro, per conv algorithm, and each row's
GEMM bound: how fast a step could be if it did nothing but its GEMMs at the machine's own rate.

    python3 -m Tools.bench.gemm_flops [--rows resnet18,resnet50] [--algorithms winograd-mixed,im2col,winograd-f4a]
    python3 -m Tools.bench.gemm_flops --bound [--rows all] [--threads 2]      # the bound of every compare.py row

Builds `Tools/bench/count_sgemm.c` (an LD_PRELOAD shim that counts 2·m·n·k of every
`cblas_sgemm` and forwards the call, and of every call of the engine's own Winograd GEMM, which the
binary reports to it) with the system C compiler into a temporary folder, then runs
`rkan-repro bench SPEC --warmup 0 --iterations 1 --repeats 1` for each row of `Tools/bench/compare.py`
asked for, mode and algorithm (`RKAN_CONV_ALGO`), and prints a markdown table of GFLOP per step.
With `im2col` every conv is a GEMM over the direct convolution's flops, so that column is what a
direct-convolution peer (oneDNN) computes; the ratio of the default's flops to it bounds how far
ahead any GEMM-rate-limited step can get.

The own Winograd GEMM (`rkan_wino_gemm`, the default on AVX2 + FMA CPUs) is a call inside the
binary that no LD_PRELOAD can wrap; the binary looks up the shim's `rkan_gemm_observe_*` functions
at start and reports each of its calls to them (CKernels/wino_gemm.c), so the runs measure the
default engine, own GEMM included. A binary that reports nothing while its bench says it ran the
own GEMM (built before the hook) is refused: its Winograd products would be missing from every
figure. `RKAN_WINO_GEMM=openblas` in the environment measures the OpenBLAS Winograd GEMM instead.

`--bound` (also `compare.py --gemm-bound`) runs each row with the default algorithm under the shim
(`--warmup 1 --iterations --bound-iters`, `--bound-rounds` times), which records every distinct
GEMM shape the step calls (the engine's split blocks as OpenBLAS sees them, and the own GEMM's
blocks of 48 tiles) and the summed duration of the GEMM calls on all threads.
`Tools/bench/sgemm_shapes.c` (built here too, with CKernels' own GEMM, linked to OpenBLAS through
pkg-config) then measures the machine's rate on each of those shapes the way the engine runs them:
`--threads` threads each calling single-threaded OpenBLAS (the core the bench reported, via
OPENBLAS_CORETYPE) at once, best of three; an own-GEMM shape is timed on both kernels and takes the
faster one's rate (the bound asks what the machine can do on that product). Per row it prints:

- GEMM GFLOP per step, and the sgemm rate on the step's shapes (flops over the summed time the
  shapes take at their measured rates; shapes beyond 99 % of the flops take the average rate),
  beside the same measurement on 1024³;
- the bound: images per second if a step were its GEMMs at those rates and nothing else;
- achieved img/s (compare.py's figure with the default GEMM under `compare.py --gemm-bound`; else
  the median of the shim's rounds, OpenBLAS's Winograd GEMM, the shim's cost a lock per call) and
  its % of the bound;
- the GEMM share of a step: the summed duration of the GEMM calls on all threads ÷ (threads × wall
  time from the first GEMM to the last), measured over all steps of the invocation, the non-GEMM
  share being the rest (time in transforms, BatchNorm, pointwise ops, packing outside the GEMMs,
  and a thread waiting for the other); and the rate the GEMMs reached inside the step (flops ÷
  that GEMM time per thread). Thread time, not the wall time with any GEMM running: the own GEMM
  runs on one thread while the other transforms a block, and a union of the threads' GEMM
  intervals would count that as GEMM time. Each call costs the shim two spin locks and three clock
  reads (about 0.3 µs; a ResNet-18 training step makes some 270 000 own-GEMM calls). Beside it,
  the part of the non-GEMM share that is idle: 1 − the bench's `busyThreads` ÷ threads (its CPU
  time per wall second over the timed steps).

On a loaded machine every rate and share moves with the load (noise.py's steal and other-CPU
figures are printed beside them): take the figures from a quiet machine. With GEMM_TOOLS=DIR the
shim and the rate benchmark are taken prebuilt from DIR (Tools/bench/portable/ ships them).
A developer tool; needs a C compiler and OpenBLAS's development files; never run by the tests.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

from Tools import ROOT
from Tools.bench import compare  # rows, binary folder, machine description
from Tools.bench import noise

HERE = os.path.dirname(os.path.abspath(__file__))
# The shim's shape tag of the own Winograd GEMM's calls (TA = TB = 200; OpenBLAS's are 111/112).
OWN = 200


# A folder with count_sgemm.so and sgemm_shapes already built (Tools/bench/portable/bundle.sh ships
# them, built where the release binaries were, for a machine without a compiler or OpenBLAS headers).
PREBUILT = os.environ.get("GEMM_TOOLS", "")


def build_shim(folder):
    if PREBUILT:
        return os.path.join(PREBUILT, "count_sgemm.so")
    out = os.path.join(folder, "count_sgemm.so")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", out, os.path.join(HERE, "count_sgemm.c"), "-ldl", "-lpthread"],
                   check=True)
    return out


def build_rates(folder):
    """Builds sgemm_shapes.c against the system OpenBLAS (pkg-config openblas)."""
    if PREBUILT:
        return os.path.join(PREBUILT, "sgemm_shapes")
    out = os.path.join(folder, "sgemm_shapes")
    cc = os.environ.get("CC", "cc")
    p = subprocess.run(["pkg-config", "--cflags", "--libs", "openblas"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("gemm_flops.py: pkg-config knows no openblas; install OpenBLAS's development files "
                         "(Debian: apt-get install libopenblas-dev pkg-config)")
    subprocess.run([cc, *SGEMM_SHAPES_SOURCES, "-o", out, *shlex.split(p.stdout), "-lm"], check=True)
    return out


# sgemm_shapes.c with the own GEMM (CKernels) it times beside OpenBLAS; Tools/bench/portable/bundle.sh
# builds the same list.
KERNELS = os.path.join(ROOT, "Sources", "CKernels")
SGEMM_SHAPES_SOURCES = ["-O2", "-pthread", "-Wno-psabi", "-Wno-unknown-pragmas", f"-I{os.path.join(KERNELS, 'include')}",
                        os.path.join(HERE, "sgemm_shapes.c"), os.path.join(KERNELS, "wino_gemm.c"),
                        os.path.join(KERNELS, "cpu.c")]


def profile(shim, spec, mode, batch, size, threads, classes, iters, blas_core, folder, extra_env=None):
    """One `rkan-repro bench` (1 warm-up + `iters` steps) under the shim: {"img_s", "core", "shapes":
    {(ta, tb, m, n, k): calls per step}, "flops": per step, "busy" (summed call seconds, all threads),
    "span" (seconds), "steps", "gemm": the bench's conv label}."""
    out = os.path.join(folder, "shapes.txt")
    env = dict(os.environ, LD_PRELOAD=shim, GEMM_SHAPES_OUT=out, **(extra_env or {}))
    cmd = [compare.ours_binary(), "bench", spec, "--size", str(size), "--batch", str(batch), "--mode", mode,
           "--warmup", "1", "--iterations", str(iters), "--repeats", "1", "--threads", str(threads),
           "--classes", str(classes), "--json"] + (["--blas-core", blas_core] if blas_core else [])
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0 or not os.path.exists(out):
        raise SystemExit(f"gemm_flops.py: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
    j = compare.last_json(p.stdout)
    steps = 1 + iters
    shapes, seconds, beta1, span, other, observed = {}, {}, {}, 0.0, 0, False
    with open(out) as f:
        for line in f:
            w = line.split()
            if w[0] == "shape":
                key = tuple(int(x) for x in w[1:6])
                shapes[key] = int(w[6]) / steps
                if len(w) >= 9:
                    seconds[key], beta1[key] = float(w[7]), int(w[8]) / steps
            elif w[0] == "time":
                span = float(w[2])   # w[1]: the wall time with any GEMM running (not used: see gemm_share)
            elif w[0] == "other":
                other = int(w[2]) / steps
            elif w[0] == "own_gemm_observed":
                observed = w[1] == "1"
    label = j.get("convAlgorithm", "")
    require_observed(label, observed, " ".join(cmd))
    flops = sum(2 * m * n * k * c for (_, _, m, n, k), c in shapes.items()) + other
    return {"img_s": j["imagesPerSecond"], "core": j.get("blasCore", ""), "shapes": shapes, "flops": flops,
            "seconds": seconds, "beta1": beta1, "busy": sum(seconds.values()), "span": span, "steps": steps,
            "gemm": label, "busy_threads": j.get("busyThreads")}


def require_observed(label, observed, cmd):
    """Refuses a run whose own Winograd GEMM the shim did not see: its products would be missing."""
    if "own GEMM" in label and not observed:
        raise SystemExit(f"gemm_flops.py: {cmd} ran the own Winograd GEMM ({label}) but did not report its calls "
                         "to the shim (a binary built before CKernels/wino_gemm.c looked up rkan_gemm_observe_*, or a "
                         "GEMM_TOOLS shim built before count_sgemm.c defined them): rebuild it (swift build -c release; "
                         "Tools/bench/portable/bundle.sh for GEMM_TOOLS), or measure OpenBLAS's Winograd GEMM with "
                         "RKAN_WINO_GEMM=openblas")


def measure_rates(rates_bin, shapes, threads, core, seconds=0.2):
    """{shape: GFLOP/s} of `threads` concurrent single-threaded cblas_sgemm calls per shape."""
    env = dict(os.environ)
    if core:
        env["OPENBLAS_CORETYPE"] = core
    text = "".join(f"{ta} {tb} {m} {n} {k}\n" for ta, tb, m, n, k in shapes)
    p = subprocess.run([rates_bin, str(threads), str(seconds)], input=text, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"gemm_flops.py: sgemm_shapes failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
    rates, used_core = {}, "?"
    for line in p.stdout.splitlines():
        w = line.split()
        if w and w[0] == "rate":
            rates[tuple(int(x) for x in w[1:6])] = float(w[6])
        elif w and w[0] == "core":
            used_core = w[1]
    return rates, used_core


def bounds(todo, threads, classes, blas_core="", achieved=None, iters=3, rounds=1, log=None, per_shape=0):
    """The GEMM bound of every (spec, batch, size, mode) in `todo`: {"rows": {(spec, mode): {...}},
    "lines": markdown}. `achieved` ({(spec, mode): img/s}) replaces the rounds' own img/s. With
    `per_shape` > 0, a table per row follows: its `per_shape` largest shapes by flops, each one's
    rate inside the step against the same shape measured alone."""
    log = log or (lambda m: print(m, file=sys.stderr))
    if not os.access(compare.ours_binary(), os.X_OK):
        raise SystemExit(f"gemm_flops.py: no {compare.ours_binary()}: build it first (swift build -c release --product rkan-repro)")
    rows, cache, cores = {}, {}, set()
    with tempfile.TemporaryDirectory() as tmp:
        shim, rates_bin = build_shim(tmp), build_rates(tmp)
        for spec, batch, size, mode in todo:
            runs = []
            for r in range(rounds):
                prof, nz = noise.measured(profile, shim, spec, mode, batch, size, threads, classes, iters, blas_core, tmp)
                runs.append((prof, nz))
                log(f"gemm bound: {spec} {mode} round {r + 1}: {prof['img_s']:.2f} img/s, GEMM {prof['flops'] / 1e9:.2f} "
                    f"GFLOP/step, {len(prof['shapes'])} shapes, GEMM share {gemm_share(prof, threads):.2f} "
                    f"({noise.describe_noise(nz)})")
            prof = runs[0][0]
            core = prof["core"]
            # The shapes that hold 99 % of the flops, measured once per machine and core.
            by_flops = sorted(prof["shapes"].items(), key=lambda kv: -2 * kv[0][2] * kv[0][3] * kv[0][4] * kv[1])
            need, acc, chosen = 0.99 * prof["flops"], 0.0, []
            for shape, calls in by_flops:
                if acc >= need:
                    break
                chosen.append(shape)
                acc += 2 * shape[2] * shape[3] * shape[4] * calls
            todo_shapes = [sh for sh in chosen + [(111, 111, 1024, 1024, 1024)] if (core, sh) not in cache]
            if todo_shapes:
                got, used_core = measure_rates(rates_bin, todo_shapes, threads, core)
                cores.add(used_core)
                cache.update({(core, sh): v for sh, v in got.items()})
            seconds, measured_flops = 0.0, 0.0
            for shape in chosen:
                f = 2 * shape[2] * shape[3] * shape[4] * prof["shapes"][shape]
                seconds += f / (cache[(core, shape)] * 1e9)
                measured_flops += f
            rate = measured_flops / seconds / 1e9 if seconds else float("nan")
            bound_s = prof["flops"] / (rate * 1e9)
            img = (achieved or {}).get((spec, mode)) or statistics.median(p["img_s"] for p, _ in runs)
            shares = [gemm_share(p, threads) for p, _ in runs if p["span"] > 0]
            share = statistics.median(shares) if shares else float("nan")
            inside = [p["flops"] * p["steps"] / (p["busy"] / threads) / 1e9 for p, _ in runs if p["busy"] > 0]
            idles = [1 - p["busy_threads"] / threads for p, _ in runs if p["busy_threads"] is not None]
            rows[(spec, mode)] = dict(batch=batch, size=size, gflop=prof["flops"] / 1e9, rate=rate,
                                      cube=cache[(core, (111, 111, 1024, 1024, 1024))], bound=batch / bound_s,
                                      img_s=img, fraction=img * bound_s / batch, gemm_share=share,
                                      inside=statistics.median(inside) if inside else float("nan"),
                                      idle=statistics.median(idles) if idles else float("nan"),
                                      shapes=len(prof["shapes"]), core=core, by_shape=shape_rates(prof, chosen, cache, core, threads),
                                      noise=[nz for _, nz in runs], gemm=prof["gemm"])
    model, vendor, cpus = compare.machine()
    engines = sorted({r["gemm"] for r in rows.values()})
    lines = [f"GEMM bound per row ({model}, {vendor}, {cpus} logical CPUs; {threads} threads; OpenBLAS core "
             f"{', '.join(sorted(cores)) or '?'}; conv {'; '.join(engines) or '?'}; `python3 -m Tools.bench.gemm_flops "
             f"--bound`): GEMM GFLOP per step (every cblas_sgemm and own Winograd GEMM call counted by the shim); "
             f"achieved img/s: {'the table above' if achieved else 'the shim rounds'}; sgemm rate on the step's own "
             f"GEMM shapes ({threads} single-threaded calls at once, the engine's way; an own-GEMM shape at the faster "
             f"of the own GEMM and OpenBLAS) beside 1024³ (OpenBLAS) measured the same way; bound = img/s if a step "
             f"were only its GEMMs at that rate; % of bound = achieved ÷ bound; GEMM share = summed GEMM call time on "
             f"all threads ÷ (threads × wall time from the first GEMM to the last; the rest is the non-GEMM share); "
             f"idle = the part of the non-GEMM share a thread spent waiting (1 − the bench's busy threads ÷ threads, "
             f"over its timed steps under the shim); GEMM rate in step = flops ÷ GEMM call time per thread.", "",
             "| row | mode | GEMM GFLOP/step | sgemm on its shapes GFLOP/s | sgemm 1024³ | bound img/s | achieved img/s | "
             "% of bound | GEMM share | non-GEMM share | of which idle | GEMM rate in step | noise |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for spec, batch, size, mode in todo:
        r = rows[(spec, mode)]
        nz = r["noise"][0]
        lines.append(f"| `{spec}`, {size}², b{batch} | {mode} | {r['gflop']:.2f} | {r['rate']:.0f} | {r['cube']:.0f} | "
                     f"{r['bound']:.1f} | {r['img_s']:.1f} | {100 * r['fraction']:.0f} % | {100 * r['gemm_share']:.0f} % | "
                     f"{100 * (1 - r['gemm_share']):.0f} % | {100 * r['idle']:.0f} % | {r['inside']:.0f} | "
                     f"{noise.describe_noise(nz)} |")
    for spec, batch, size, mode in todo if per_shape > 0 else []:
        r = rows[(spec, mode)]
        lines += ["", f"`{spec}`, {size}², b{batch}, {mode}: its {per_shape} largest GEMM shapes by flops (row-major "
                  f"C = op(A)·op(B), T = transposed; own = the own Winograd GEMM, A · Bᵀ; first round). In step = the shape's flops ÷ the summed duration of "
                  f"its calls (GFLOP/s of one call on one thread); alone = the same shape measured alone, per thread "
                  f"({threads} at once, warm operands, beta 0).", "",
                  "| A, B | M | N | K | calls/step | beta ≠ 0 | % of flops | % of GEMM time | in step | alone | in step ÷ alone |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        if not r["by_shape"]:
            lines.append("| (the shim recorded no per-shape times: a shim built before they existed; rebuild it, "
                         "or unset GEMM_TOOLS) | | | | | | | | | | |")
        for x in r["by_shape"][:per_shape]:
            ta, tb, m, n, k = x["shape"]
            kind = "own" if ta == OWN else f"{'T' if ta == 112 else 'N'}{'T' if tb == 112 else 'N'}"
            lines.append(f"| {kind} | {m} | {n} | {k} | {x['calls']:.0f} | "
                         f"{x['beta1']:.0f} | {100 * x['flop_share']:.1f} | {100 * x['time_share']:.1f} | "
                         f"{x['inside']:.1f} | {x['alone']:.1f} | {x['inside'] / x['alone']:.2f} |")
    return {"rows": rows, "lines": lines}


def gemm_share(prof, threads):
    """Summed GEMM call time on all threads ÷ (threads × the span from the first GEMM to the last)."""
    return prof["busy"] / (threads * prof["span"]) if prof["span"] > 0 else float("nan")


def shape_rates(prof, chosen, cache, core, threads):
    """Per shape of `chosen` (largest flops first): calls and beta ≠ 0 calls per step, share of the
    step's GEMM flops and of its summed GEMM call time, the rate of one call inside the step and the
    per-thread rate of the shape measured alone (GFLOP/s). Empty when the shim recorded no times."""
    total_s = sum(prof["seconds"].values())
    if not total_s:
        return []
    out = []
    for shape in chosen:
        _, _, m, n, k = shape
        calls = prof["shapes"][shape]
        f = 2 * m * n * k * calls * prof["steps"]
        sec = prof["seconds"].get(shape, 0.0)
        out.append(dict(shape=shape, calls=calls, beta1=prof["beta1"].get(shape, 0), flop_share=f / prof["steps"] / prof["flops"],
                        time_share=sec / total_s, inside=f / sec / 1e9 if sec else float("nan"),
                        alone=cache[(core, shape)] / threads))
    return out


def step_flops(shim, spec, mode, batch, size, algorithm, classes):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "shapes.txt")
        env = dict(os.environ, LD_PRELOAD=shim, RKAN_CONV_ALGO=algorithm, GEMM_SHAPES_OUT=out)
        cmd = [compare.ours_binary(), "bench", spec, "--size", str(size), "--batch", str(batch),
               "--mode", mode, "--warmup", "0", "--iterations", "1", "--repeats", "1", "--threads", "1",
               "--classes", str(classes), "--json"]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        m = re.search(r"gemm_flops: calls (\d+) flops (\d+)", p.stderr)
        if p.returncode != 0 or not m or not os.path.exists(out):
            raise SystemExit(f"gemm_flops.py: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
        with open(out) as f:
            observed = any(line.split() == ["own_gemm_observed", "1"] for line in f)
        require_observed(compare.last_json(p.stdout).get("convAlgorithm", ""), observed, " ".join(cmd))
    return int(m.group(1)), int(m.group(2))


def selftest():
    """The shim sees both Winograd GEMMs alike: one small training step counted under the own GEMM
    and under OpenBLAS's gives exactly the same flops (the same products, in other shapes), the own
    GEMM's calls carry its shape tag and only under it, and sgemm_shapes times an own-GEMM shape on
    both kernels. A binary or shim that lost the hook would count the own GEMM's flops as zero."""
    if not os.access(compare.ours_binary(), os.X_OK):
        raise SystemExit(f"gemm_flops.py --self-test: no {compare.ours_binary()}: build it first (swift build -c release --product rkan-repro)")
    wrong, seen = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        shim, rates_bin = build_shim(tmp), build_rates(tmp)
        for gemm in ("own", "openblas"):
            prof = profile(shim, "resnet18(stem=small)", "train", 8, 16, 2, 10, 1, "", tmp,
                           extra_env={"RKAN_WINO_GEMM": gemm})
            own_shapes = [sh for sh in prof["shapes"] if sh[0] == OWN]
            seen[gemm] = prof["flops"]
            if ("own GEMM" in prof["gemm"]) != (gemm == "own"):
                wrong.append(f"RKAN_WINO_GEMM={gemm}: the bench ran {prof['gemm']}")
            if (len(own_shapes) > 0) != (gemm == "own"):
                wrong.append(f"RKAN_WINO_GEMM={gemm}: {len(own_shapes)} own-GEMM shapes recorded")
            if not prof["busy"] > 0 or not 0 < gemm_share(prof, 2) <= 1:
                wrong.append(f"RKAN_WINO_GEMM={gemm}: GEMM time {prof['busy']} s over a span of {prof['span']} s")
        if seen["own"] != seen["openblas"] or not seen["own"] > 0:
            wrong.append(f"GEMM flops per step: {seen['own']:.0f} with the own GEMM, {seen['openblas']:.0f} with OpenBLAS's")
        rates, _ = measure_rates(rates_bin, [(OWN, OWN, 48, 32, 32)], 1, "", seconds=0.01)
        if not rates.get((OWN, OWN, 48, 32, 32), 0) > 0:
            wrong.append(f"sgemm_shapes gave no rate for an own-GEMM shape: {rates}")
    if wrong:
        raise SystemExit("gemm_flops.py --self-test:\n  " + "\n  ".join(wrong))
    print(f"gemm_flops self-test: ok ({seen['own'] / 1e9:.3f} GFLOP per step under either Winograd GEMM)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="resnet18(stem=small),resnet50",
                   help="compare.py rows (comma-separated exact specs, or all)")
    p.add_argument("--modes", default="infer,train")
    p.add_argument("--algorithms", default="winograd-mixed,winograd-f4a,im2col")
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--bound", action="store_true", help="each row's GEMM bound, %% of it reached and non-GEMM share")
    p.add_argument("--threads", type=int, default=2, help="--bound: engine threads (and concurrent sgemm calls)")
    p.add_argument("--bound-iters", type=int, default=3, help="--bound: timed steps per profiled invocation")
    p.add_argument("--bound-rounds", type=int, default=3, help="--bound: profiled invocations per row (median)")
    p.add_argument("--blas-core", default="", help="--bound: rkan-repro's --blas-core")
    p.add_argument("--per-shape", type=int, default=0, metavar="N",
                   help="--bound: also each row's N largest GEMM shapes, rate in the step against alone")
    p.add_argument("--self-test", action="store_true",
                   help="check that the shim counts the own Winograd GEMM as it counts OpenBLAS (a C compiler and "
                        "OpenBLAS's development files; no PyTorch), then exit")
    p.add_argument("--binary", default=None, help="the rkan-repro binary (default: .build/release/rkan-repro)")
    a = p.parse_args()
    if a.binary:
        compare.OURS = a.binary
    if a.self_test:
        selftest()
        return
    wanted = a.rows.split(",")
    rows = [r for r in compare.ROWS if a.rows == "all" or r[0] in wanted]
    if not rows:
        raise SystemExit(f"gemm_flops.py: --rows {a.rows} names none of compare.py's rows ({', '.join(r[0] for r in compare.ROWS)})")
    if not os.access(compare.ours_binary(), os.X_OK):
        raise SystemExit(f"gemm_flops.py: no {compare.ours_binary()}: build it first (swift build -c release --product rkan-repro)")
    if a.per_shape < 0:
        raise SystemExit(f"gemm_flops.py: --per-shape {a.per_shape}: give a count of shapes, 1 or more (0: none)")
    if a.per_shape and not a.bound:
        raise SystemExit("gemm_flops.py: --per-shape times the shapes of each row's GEMM bound: add --bound")
    if a.bound:
        todo = [(spec, batch, size, mode) for spec, batch, size in rows for mode in a.modes.split(",")]
        print("\n".join(bounds(todo, a.threads, a.classes, a.blas_core, iters=a.bound_iters, rounds=a.bound_rounds,
                              per_shape=a.per_shape)["lines"]))
        return
    algorithms = a.algorithms.split(",")
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
