#!/usr/bin/env python3
"""Throughput of rkan-repro against PyTorch on the same CPU, written to Reports/performance.md.

    python3 -m Tools.bench.compare                      # full protocol (slow: tens of minutes)
    python3 -m Tools.bench.compare --warmup 2 --iters 5 --repeats 3 --only resnet18   # quick look
    python3 -m Tools.bench.compare --gemm-bound          # plus each row's GEMM bound and non-GEMM share

For every row (model, mode) it runs `rkan-repro bench SPEC --json` and `Tools/bench/peer_torch.py`
ALTERNATELY (every invocation: `--warmup` untimed then `--iters` timed steps, one repeat), with
the same threads, batch, size, classes and mode, in `--repeats` short rounds over all rows (ours
first in odd rounds, PyTorch first in even ones). Every invocation records the CPU steal and the
CPU used by other processes while it ran, and the load average (Tools/bench/noise.py); a round
in which either side ran under heavy steal (> 10 % of all CPU time), beside heavy other work
(> 25 %) or on a machine slower than 85 % of its fastest speed probe of the session (a 2048³
sgemm before and after every invocation: a VM can lose half its speed with no steal shown) runs
again (`--retries`), and the medians leave out rounds that stayed heavy when any round was clean.
The table gives each side's median img/s with its spread (IQR, min–max) and the number of
rounds, and the ratio as the median of the per-round ratios with its spread.
Effective GFLOP/s = MACs · 2 · (3 for train, 1 for infer) · img/s,
with MACs from `rkan-repro models --json`. The GEMM ceiling is `rkan-bench sgemm` (plain
cblas_sgemm at 1024³ and 2048³, OpenBLAS's own threads, re-measured every round, best kept). Peak RSS: one resnet50 128×128
batch-32 train run of each side under /usr/bin/time -v. `--gemm-bound` adds the GEMM bound of
every row (Tools/bench/gemm_flops.py: GEMM flops per step, the best sgemm rate on the step's own
GEMM shapes, the fraction of that bound reached and the share of a step outside GEMMs).

The PyTorch peer runs in both memory formats (contiguous and channels-last) and under two glibc
malloc settings (defaults, and no trimming / no mmap of large blocks: `TORCH_ALLOCATORS`), and the
fastest is its number (`--torch-format auto --torch-alloc auto`, the defaults); the raw lines say
which won each invocation.

Reports/performance.md keeps one measured section per machine, between the markers
<!-- compare:begin KEY --> and <!-- compare:end KEY -->, KEY naming the CPU vendor, model, widest vector extension and core
count (`--section` overrides it, e.g. to keep an older table of the same machine beside a new one).
A run replaces only its own machine's section; text outside the markers and other machines'
sections are kept.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

from Tools import ROOT
from Tools.bench import noise

BIN = os.path.join(ROOT, ".build", "release")
# The PyTorch peer, run as a module of this package from ROOT (every subprocess here runs there).
PEER = [sys.executable, "-m", "Tools.bench.peer_torch"]
# The rkan-repro binary measured: BIN's unless a caller (Tools/dev/compare_builds.py) names another file.
OURS = None


def ours_binary():
    return OURS or os.path.join(BIN, "rkan-repro")


def bench_binary():
    return os.path.join(BIN, "rkan-bench")


def require_built(tool, binaries, hint=""):
    """Exits (status 1) naming what to build when one of `binaries` is not an executable file."""
    missing = [b for b in binaries if not (os.path.isfile(b) and os.access(b, os.X_OK))]
    if missing:
        commands = "; ".join(f"swift build -c release --product {os.path.basename(b)}" for b in missing)
        raise SystemExit(f"{tool}: {' and '.join(missing)} not built. Build {'it' if len(missing) == 1 else 'them'} "
                         f"in {ROOT} with: {commands}{hint}.")
BEGIN, END = "<!-- compare:begin", "<!-- compare:end"

# (spec, batch, size): the speed table's rows (a small-input ResNet-18 pair and ResNet-50 at 128² with
# two RKAN variants); each runs in train and infer.
ROWS = [
    ("resnet18(stem=small)", 128, 32),
    ("resnet18(stem=small)+rkan", 128, 32),
    ("resnet50", 32, 128),
    ("resnet50+rkan", 32, 128),
    ("resnet50+rkan(inv=4)", 32, 128),
]
# (baseline, rkan variant) pairs for the overhead table.
PAIRS = [("resnet18(stem=small)", "resnet18(stem=small)+rkan"),
         ("resnet50", "resnet50+rkan"), ("resnet50", "resnet50+rkan(inv=4)")]


def run(cmd, **kw):
    """Runs `cmd`, returns stdout; stderr passes through on failure."""
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout


def last_json(text):
    """The last line of `text` that parses as a JSON object."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"no JSON in output:\n{text}")


def ours(spec, mode, batch, size, a, env=None):
    """(img/s, OpenBLAS core that ran, 3×3 conv algorithm) of one `rkan-repro bench` invocation
    (`env`: variables added to the environment)."""
    out = run([ours_binary(), "bench", spec, "--size", str(size), "--batch", str(batch),
               "--mode", mode, "--classes", str(a.classes), "--threads", str(a.threads), "--warmup", str(a.warmup),
               "--iterations", str(a.iters), "--repeats", "1", "--json"] + blas_core_args(a),
              env={**os.environ, **(env or {})})
    j = last_json(out)
    return j["imagesPerSecond"], j.get("blasCore", "?"), j.get("convAlgorithm", "?")


def blas_core_args(a):
    return ["--blas-core", a.blas_core] if a.blas_core else []


def speed_probe(a):
    """A `noise.Probe` of the machine's speed around every invocation: the cblas_sgemm rate at 2048³
    (`rkan-bench sgemm --repeats 1 --sizes 2048 --cblas-only`: a warm-up and one timed product,
    about half a second with its process), or None when `--probe-limit` is 0 or this checkout's
    rkan-bench is not built."""
    bench = bench_binary()
    if a.probe_limit <= 0 or not (os.path.isfile(bench) and os.access(bench, os.X_OK)):
        return None
    cmd = [bench] + blas_core_args(a) + ["sgemm", "--threads", str(a.threads), "--repeats", "1",
                                        "--sizes", "2048", "--cblas-only", "--json"]

    def measure():
        rates = [j["gflops"] for j in map(json.loads, run(cmd).strip().splitlines()) if j.get("n") == 2048]
        return max(rates) if rates else None
    return noise.Probe(measure, "sgemm 2048³ GFLOP/s")


def add_noise_options(ap):
    """--retries, --steal-limit, --others-limit and --probe-limit (shared with compare_builds speed)."""
    ap.add_argument("--retries", type=int, default=2, help="runs of a heavy round again (0: keep every round)")
    ap.add_argument("--steal-limit", type=float, default=noise.STEAL_LIMIT,
                    help="%% of CPU time stolen by the hypervisor above which an invocation is heavy")
    ap.add_argument("--others-limit", type=float, default=noise.OTHERS_LIMIT,
                    help="%% of CPU time used by other processes above which an invocation is heavy")
    ap.add_argument("--probe-limit", type=float, default=noise.PROBE_LIMIT,
                    help="%% of the session's fastest speed probe (a 2048³ sgemm before and after every "
                         "invocation) below which an invocation is heavy; 0: no probe")


# glibc malloc settings the peer runs under. PyTorch allocates every activation afresh; with glibc's
# defaults, blocks above the (dynamic, at most 32 MiB) mmap threshold are mapped and unmapped per
# step and the heap is trimmed, so each step page-faults its activations in again: on the 2-core
# AMD EPYC, fresh-process PyTorch inference ran resnet18(stem=small) at 97–165 img/s with the
# defaults and 200 with both thresholds at 4 GiB (train 54.6 → 62.1; resnet50 train 16.4 → 20.2).
# rkan-repro reuses its buffers and gains nothing from them. `auto` measures both and keeps the faster.
TORCH_ALLOCATORS = {
    "glibc-default": {},
    "glibc-no-trim": {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296"},
}


def torch_peer(spec, mode, batch, size, a):
    """(img/s, torch version, winning "format, allocator", img/s of every variant) of the peer."""
    variants = list(TORCH_ALLOCATORS) if a.torch_alloc == "auto" else [a.torch_alloc]
    best, every = None, {}
    for alloc in variants:
        out = run([*PEER, "--spec", spec, "--batch", str(batch),
                   "--size", str(size), "--mode", mode, "--threads", str(a.threads), "--classes", str(a.classes),
                   "--warmup", str(a.warmup), "--iters", str(a.iters), "--repeats", "1", "--memory-format", a.torch_format],
                  env={**os.environ, **TORCH_ALLOCATORS[alloc]})
        j = last_json(out)
        for f, v in j.get("img_s_by_format", {j.get("memory_format", a.torch_format): j["img_s"]}).items():
            every[f"{f}, {alloc}"] = v
        if best is None or j["img_s"] > best[0]:
            best = (j["img_s"], j.get("torch_version", "?"), f"{j.get('memory_format', a.torch_format)}, {alloc}")
    return best[0], best[1], best[2], every


def macs(spec, size, classes):
    return last_json(run([ours_binary(), "models", "--json", "--classes", str(classes),
                          "--size", str(size), spec]))["macs"]


def peak_rss_mb(cmd):
    """Maximum resident set size of `cmd` in MiB, from GNU time."""
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return kb / 1024


def machine():
    """(CPU model name, vendor, logical CPUs) from /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = fields.get("model name") or platform.processor() or "unknown"
    vendor = {"AuthenticAMD": "AMD", "GenuineIntel": "Intel"}.get(fields.get("vendor_id", ""), fields.get("vendor_id", "unknown"))
    return model, vendor, os.cpu_count()


def vector_isa():
    """The widest vector extension the CPU exposes (AVX-512, AVX2 or SSE), from /proc/cpuinfo's flags.

    Part of a section's key: virtual CPUs of different generations share one model name ("AMD
    EPYC" is a Zen 3 without AVX-512 on one host and a Zen 4 with it on another), and their kernels
    and speeds differ."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.partition(":")[2].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    return "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"


def section_key(vendor, model, cores, isa):
    """The marker key of one machine's section: vendor, model, vector extension and core count, marker-safe."""
    name = model if model.lower().startswith(vendor.lower()) else f"{vendor} {model}"
    return re.sub(r"[^A-Za-z0-9 ,.()@+_-]", "", f"{name} ({isa}), {cores} cores").replace("--", "-")


def replace_section(old, key, block):
    """`old` with the section of `key` replaced by `block` (appended when absent)."""
    begin, end = f"{BEGIN} {key} -->", f"{END} {key} -->"
    if begin in old and end in old[old.index(begin):]:
        i = old.index(begin)
        j = old.index(end, i) + len(end)
        return old[:i] + block + old[j:]
    return old.rstrip() + "\n\n" + block + "\n"


def loadavg():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=7, help="alternating rounds (short invocations, median reported)")
    add_noise_options(ap)
    ap.add_argument("--budget", type=float, default=0,
                    help="seconds: start no round that would end past this (the table then rests on the rounds run; "
                         "for machines lent for minutes); 0: no limit")
    ap.add_argument("--gemm-bound", action="store_true",
                    help="add each row's GEMM bound (Tools/bench/gemm_flops.py; needs a C compiler)")
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--only", default="", help="comma-separated substrings; keep rows whose spec contains one")
    ap.add_argument("--torch-format", choices=["auto", "contiguous", "channels_last"], default="auto",
                    help="PyTorch memory format (auto: faster of both, twice the time)")
    ap.add_argument("--torch-alloc", choices=["auto", *TORCH_ALLOCATORS], default="auto",
                    help="glibc malloc settings of the PyTorch peer (auto: the faster of both, twice the time)")
    ap.add_argument("--blas-core", default="", help="rkan-repro's --blas-core (best, portable or a core name; default: rkan-repro's choice)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "Reports", "performance.md"))
    ap.add_argument("--section", default="", help="section key in --out (default: CPU vendor, model and core count)")
    a = ap.parse_args()

    if not a.skip_build:
        print("building release …", file=sys.stderr)
        run(["swift", "build", "-c", "release", "--product", "rkan-repro"])
        run(["swift", "build", "-c", "release", "--product", "rkan-bench"])
    require_built("compare.py", [ours_binary(), bench_binary()], " (or run without --skip-build, which builds both first)")

    load_before = loadavg()
    sgemm_cmd = [bench_binary()] + blas_core_args(a) + ["sgemm", "--threads", str(a.threads), "--repeats", "3",
                                                      "--cblas-only", "--json"]
    ceilings = {}   # n → GFLOP/s of every measurement (the ceiling is re-measured each round)

    def measure_ceiling():
        for j in map(json.loads, run(sgemm_cmd).strip().splitlines()):
            ceilings.setdefault(j["n"], []).append(j["gflops"])
            measure_ceiling.core = j["core"]

    modes = [m for m in a.modes.split(",") if m]
    rows = [r for r in ROWS if not a.only or any(s in r[0] for s in a.only.split(","))]
    todo = [(spec, batch, size, mode) for spec, batch, size in rows for mode in modes]
    mac = {spec: macs(spec, size, a.classes) for spec, _, size in rows}
    torch_version, formats, cores_used = "?", set(), set()
    won = {(s, m): [] for s, _, _, m in todo}
    algos = set()   # rkan-repro's conv algorithms
    rounds = {(s, m): noise.new_result(["ours", "torch"]) for s, _, _, m in todo}
    probe = speed_probe(a)
    # Rounds: every row once per round (its two sides alternating in order), so each row's median
    # draws on the same stretches of machine load as every other row's (the machine may be shared).
    started = time.monotonic()
    # The GEMM bound runs after the rounds: about a minute per five rows on a 2-core machine.
    reserve = 15.0 * len(todo) if a.gemm_bound else 0.0
    for r in range(a.repeats):
        elapsed = time.monotonic() - started
        if a.budget and r > 0 and elapsed + elapsed / r + reserve > a.budget:
            print(f"--budget {a.budget:.0f} s: stopping after {r} rounds ({elapsed:.0f} s)", file=sys.stderr)
            break
        measure_ceiling()
        for spec, batch, size, mode in todo:
            last = {}

            def side(which, spec=spec, batch=batch, size=size, mode=mode, last=last):
                if which == "ours":
                    h, c, algo = ours(spec, mode, batch, size, a)
                    last["ours"] = (c, algo)
                    return h
                t, version, f, by_format = torch_peer(spec, mode, batch, size, a)
                last["torch"] = (version, f, by_format)
                return t
            noise.one_round(rounds[(spec, mode)], r, side, retries=a.retries, steal_limit=a.steal_limit,
                            others_limit=a.others_limit, label=f" {spec} {mode}",
                            log=lambda m: print(m, file=sys.stderr), probe=probe, probe_limit=a.probe_limit)
            c, algo = last["ours"]
            torch_version, f, by_format = last["torch"]
            cores_used.add(c)
            algos.add(algo)
            won[(spec, mode)].append(f)
            formats.add(f)
            both = ", ".join(f"{k} {v:.2f}" for k, v in by_format.items())
            print(f"round {r + 1}: {spec} {mode}: PyTorch variants {both}", file=sys.stderr)
    measure_ceiling()
    core = measure_ceiling.core
    if cores_used != {core}:  # rkan-repro and rkan-bench choose alike; say so if they did not
        core = f"{', '.join(sorted(cores_used))} (models) / {core} (sgemm ceiling)"
    gemm = {n: max(v) for n, v in ceilings.items()}
    results = {}
    for spec, batch, size, mode in todo:
        rr = noise.finish(rounds[(spec, mode)])
        here, there = noise.used(rr, "ours"), noise.used(rr, "torch")
        h, t = statistics.median(here), statistics.median(there)
        m = mac[spec]
        results[(spec, mode)] = dict(batch=batch, size=size, here=h, torch=t, macs=m, rounds=rr,
                                     ratios=noise.ratios(rr, "ours", "torch"),
                                     gflops=m * 2 * (3 if mode == "train" else 1) * h * 1e-9,
                                     here_all=rr["values"]["ours"], torch_all=rr["values"]["torch"])

    bound = None
    if a.gemm_bound:
        from Tools.bench import gemm_flops
        bound = gemm_flops.bounds([(spec, batch, size, mode) for spec, batch, size, mode in todo],
                                  threads=a.threads, classes=a.classes, blas_core=a.blas_core,
                                  achieved={k: v["here"] for k, v in results.items()})

    rss = None
    if not a.no_rss:
        common = ["--batch", "32", "--size", "128", "--mode", "train", "--threads", str(a.threads), "--classes", str(a.classes)]
        rss = (peak_rss_mb([ours_binary(), "bench", "resnet50", *common,
                            "--warmup", "1", "--iterations", "1", "--repeats", "1", "--json"]),
               peak_rss_mb([*PEER, "--spec", "resnet50",
                            *common, "--warmup", "1", "--iters", "1",
                            "--repeats", "1", "--memory-format", "channels_last"]))
    load_after = loadavg()

    cpu, vendor, cores = machine()
    key = a.section or section_key(vendor, cpu, cores, vector_isa())
    # Labels hold commas ("winograd-mixed, own GEMM"): several are joined with semicolons.
    algo = "; ".join(sorted(algos)) + ("" if os.environ.get("RKAN_CONV_ALGO") or os.environ.get("RKAN_WINO_GEMM") else " (default)")
    peer_format = ("fastest of " + ("contiguous and channels_last" if a.torch_format == "auto" else a.torch_format)
                   + " × " + (" and ".join(TORCH_ALLOCATORS) if a.torch_alloc == "auto" else a.torch_alloc)
                   + " malloc (Tools/bench/compare.py, TORCH_ALLOCATORS) per invocation; won: " + ", ".join(sorted(formats)))
    name = cpu if cpu.lower().startswith(vendor.lower()) else f"{vendor} {cpu}"
    lines = [f"{BEGIN} {key} -->", "", f"### {name} ({vector_isa()}), {cores} cores, OpenBLAS core {core}", "",
             f"Measured {datetime.date.today().isoformat()} by `python3 -m Tools.bench.compare` on {cpu} (vendor {vendor}), {cores} cores; "
             f"threads {a.threads}; OpenBLAS core {core}; 3×3 stride-1 convs: {algo}; PyTorch {torch_version} (memory format and allocator: {peer_format}). "
             f"Protocol: warm-up {a.warmup}, {a.iters} timed steps per invocation, {len(next(iter(rounds.values()))['heavy'])} "
             f"alternating rounds{f' (of {a.repeats} asked; --budget {a.budget:.0f} s)' if a.budget else ''} "
             f"(each row once per round, ours first in odd rounds, PyTorch first in even ones); a round with an invocation "
             f"under more than {a.steal_limit:.0f} % steal or beside more than {a.others_limit:.0f} % other CPU use"
             + (f", or with the machine below {a.probe_limit:.0f} % of its fastest speed probe of the session (a 2048³ "
                f"sgemm before and after every invocation; fastest {probe.best:.0f} GFLOP/s)," if probe and probe.best else "")
             + f" ran again "
             f"(up to {a.retries} times) and is left out of the medians if it stayed heavy while other rounds were clean "
             f"(Tools/bench/noise.py); classes {a.classes}, 3 input channels. Load average before/after: {load_before} / {load_after}.", "",
             f"GEMM ceiling (plain `cblas_sgemm`, {a.threads} OpenBLAS threads, best of {len(next(iter(ceilings.values())))} "
             f"measurements taken between rounds): "
             + ", ".join(f"{n}³ {gemm[n]:.1f} GFLOP/s (range {min(ceilings[n]):.0f}–{max(ceilings[n]):.0f})" for n in sorted(gemm)), "",
             "Effective GFLOP/s count the direct convolution's flops (thop MACs · 2 · passes) per second; the Winograd "
             "convs do fewer, so more than 100 % of the sgemm ceiling is possible. img/s: median of the rounds used "
             "(IQR; min–max); ratio: median of the per-round ratios (IQR; min–max); n: rounds used of those run.", "",
             "| model | mode | batch | size | img/s here | img/s PyTorch | ratio | n | effective GFLOP/s here | % of sgemm |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ceiling = max(gemm.values())

    def cell(values, digits=1):
        sp = noise.spread(values)
        f = f"{{:.{digits}f}}"
        return (f"{f.format(sp['median'])} ({f.format(sp['q1'])}–{f.format(sp['q3'])}; "
                f"{f.format(sp['min'])}–{f.format(sp['max'])})")
    for spec, batch, size in rows:
        for mode in modes:
            r = results[(spec, mode)]
            rr = r["rounds"]
            lines.append(f"| {spec} | {mode} | {batch} | {size} | {cell(noise.used(rr, 'ours'))} | "
                         f"{cell(noise.used(rr, 'torch'))} | {cell(r['ratios'], 2)} | {len(rr['used'])}/{len(rr['heavy'])} | "
                         f"{fmt(r['gflops'])} | {100 * r['gflops'] / ceiling:.0f} % |")
    pair_lines = []
    for base, rk in PAIRS:
        for mode in modes:
            if (base, mode) in results and (rk, mode) in results:
                b, k = results[(base, mode)], results[(rk, mode)]
                pair_lines.append(f"| {rk} ÷ {base} | {mode} | {k['here'] / b['here']:.2f} | {k['torch'] / b['torch']:.2f} |")
    if pair_lines:
        lines += ["", "RKAN overhead (RKAN img/s ÷ baseline img/s, medians; higher is cheaper):", "",
                  "| pair | mode | here | PyTorch |", "|---|---|---:|---:|", *pair_lines]
    if bound:
        lines += ["", *bound["lines"]]
    if rss:
        lines += ["", f"Peak RSS, resnet50 128×128 batch 32 train (one warm-up + one step): here {rss[0]:.0f} MiB, "
                      f"PyTorch {rss[1]:.0f} MiB."]
    lines += ["", "Noise per row: " + "; ".join(f"{spec} {mode}: {noise.summary_line(results[(spec, mode)]['rounds'])}"
                                             for spec, _, _ in rows for mode in modes) + ".", "",
              "Raw img/s per round (here; PyTorch; * heavy):", ""]
    for spec, batch, size in rows:
        for mode in modes:
            r = results[(spec, mode)]
            hv = r["rounds"]["heavy"]
            lines.append(f"- {spec} {mode}: {', '.join(fmt(x, 2) + ('*' if h else '') for x, h in zip(r['here_all'], hv))}; "
                         f"{', '.join(f'{fmt(x, 2)} ({f})' for x, f in zip(r['torch_all'], won[(spec, mode)]))}")
    lines += ["", f"{END} {key} -->"]
    block = "\n".join(lines)

    old = open(a.out).read() if os.path.exists(a.out) else "# Performance\n"
    new = replace_section(old, key, block)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(new)
    print(block)


if __name__ == "__main__":
    main()
