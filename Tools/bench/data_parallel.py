#!/usr/bin/env python3
"""Data-parallel img/s of `rkan-repro run --ranks N` under mpirun (a measurement, not a test).

    python3 -m Tools.bench.data_parallel [--ranks 1,2,4] [--threads 1] [--images 2048] [--spec ...]

Trains one epoch of a Fashion-MNIST row (batch 128, 28x28, width 0.25) once per rank count with
`mpirun -np N --oversubscribe` (plus one plain single process with --threads 2 as the reference),
reads `train_img_s`, `scaling_efficiency` and `weights_sha256` from each run file and prints a
markdown table with the load average before and after each run. On a machine with fewer cores
than ranks x threads the ranks share cores: the figures then measure correctness and overhead,
not speed-up.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py

from Tools import ROOT

BIN = os.path.join(ROOT, ".build", "release", "rkan-repro")

SUITE = """suite: dp
title: data-parallel benchmark
source: python3 -m Tools.bench.data_parallel
dataset: {{name: fashion-mnist}}
protocol:
  epochs: 1
  batch_size: 128
  optimizer: {{name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}}
  schedule: {{name: warmup_cosine, warmup_epochs: 1, min_lr: 1.0e-5}}
  augment: {{hflip: true, pad_crop: 2}}
profiles:
  b: {{train_subset: {images}, test_subset: 128, width: 0.25}}
seeds: [0]
experiments:
  - {{id: row, model: "{spec}"}}
"""


def load():
    return open("/proc/loadavg").read().split()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--threads", type=int, default=1, help="threads per rank")
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--spec", default="resnet18(stem=small)+rkan")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rkan-dp-")
    with open(os.path.join(tmp, "dp.yaml"), "w") as f:
        f.write(SUITE.format(images=a.images, spec=a.spec))
    env = dict(os.environ, OMPI_MCA_mpi_yield_when_idle="1")
    rows = []
    plans = [("1 process", None, 2)] + [(f"{n} rank{'' if n == '1' else 's'}", int(n), a.threads) for n in a.ranks.split(",")]
    for name, n, threads in plans:
        out = os.path.join(tmp, name.replace(" ", "-"))
        run = [BIN, "run", "dp", "--profile", "b", "--suites", tmp, "--out", out, "--threads", str(threads)]
        if n is not None:
            run = ["mpirun", "-np", str(n), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
                   "-x", "OMPI_MCA_mpi_yield_when_idle"] + run + ["--ranks", str(n)]
        before = load()
        p = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            raise SystemExit(f"failed: {' '.join(run)}")
        attrs = h5py.File(os.path.join(out, "dp", "b", "row", "seed-0.h5"), "r").attrs

        rows.append((name, threads, float(attrs["train_img_s"]), float(attrs["scaling_efficiency"]),
                     attrs["weights_sha256"].decode()[:16], before, load()))
    print(f"`{a.spec}`, Fashion-MNIST 28x28, batch 128, {a.images} images (one epoch), "
          f"{os.cpu_count()} cores, OpenBLAS core from the run files' blas_core")
    print()
    print("| run | threads per rank | train img/s (all ranks) | scaling efficiency | weights_sha256 | load before → after |")
    print("|---|---:|---:|---:|---|---|")
    for name, t, ips, eff, sha, lb, la in rows:
        print(f"| {name} | {t} | {ips:.1f} | {eff:.2f} | `{sha}…` | {lb} → {la} |")


if __name__ == "__main__":
    main()
