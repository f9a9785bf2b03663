#!/usr/bin/env python3
"""Do two rkan-repro binaries compute the same bytes? (for changes that must not change arithmetic)

    python3 Tools/same_bytes.py --before OLD/rkan-repro --after NEW/rkan-repro SPEC [SPEC ...] \
        [--classes 10] [--size 64] [--batch 4] [--seed 3]

For each model spec: `rkan-repro init` (the after binary) writes the spec's initial weights for
--seed; both binaries then run `rkan-repro forward` on them and on one fixed random input (numpy
seed 0), once in eval mode (/logits) and once with --grad (train mode: /logits, /loss and
/grads/<key> of every parameter). Every dataset of the two outputs must be identical bit for bit.
Prints one line per spec and exits 1 naming each dataset that differs. A developer tool (needs
numpy and h5py); never run by the tests, since it needs a second binary.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"same_bytes.py: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stderr[-2000:]}")


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda k, v: out.__setitem__(k, np.asarray(v[()]).tobytes()) if isinstance(v, h5py.Dataset) else None)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    for b in (a.before, a.after):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"same_bytes.py: {b} is not an executable rkan-repro binary")
    differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.h5")
        rng = np.random.default_rng(0)
        with h5py.File(x, "w") as f:
            f["input"] = rng.standard_normal((a.batch, 3, a.size, a.size)).astype(np.float32)
            f["labels"] = rng.integers(0, a.classes, a.batch).astype(np.int64)
        for spec in a.specs:
            w = os.path.join(tmp, "w.h5")
            run([a.after, "init", spec, "--classes", str(a.classes), "--seed", str(a.seed), "--out", w, "--force"])
            compared = 0
            for grad in (False, True):
                outs = []
                for tag, binary in (("before", a.before), ("after", a.after)):
                    y = os.path.join(tmp, f"y_{tag}_{int(grad)}.h5")
                    cmd = [binary, "forward", "--model", spec, "--classes", str(a.classes), "--weights", w,
                           "--input", x, "--output", y, "--threads", str(a.threads)] + (["--grad"] if grad else [])
                    run(cmd)
                    outs.append(datasets(y))
                if set(outs[0]) != set(outs[1]):
                    differ += 1
                    print(f"DIFFER {spec} ({'train' if grad else 'eval'}): datasets {sorted(set(outs[0]) ^ set(outs[1]))} in one output only")
                for k in sorted(set(outs[0]) & set(outs[1])):
                    compared += 1
                    if outs[0][k] != outs[1][k]:
                        differ += 1
                        print(f"DIFFER {spec} ({'train' if grad else 'eval'}): /{k}")
            print(f"{spec}: {compared} datasets compared (eval logits; train logits, loss, every gradient)")
    print("all identical" if differ == 0 else f"{differ} differences")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
