#!/usr/bin/env bash
# Trains the narrow Mask R-CNN of Benchmarks/suites/detection-learns.yaml twice on the generated
# shapes data, as is and with a broken loss (box regression weights 0: the decoder never learns a
# delta), and prints both box/mask AP50. Exit 1 when the real run does not beat the broken one by
# the margin recorded in Benchmarks/detection.md. Usage: Benchmarks/detection_learns.sh [RUNS_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${RKAN_REPRO:-$here/../.build/release/rkan-repro}
runs=${1:-$here/../runs/detection-learns}
floor=${FLOOR:-10}   # box AP50 (%) the real run must reach: the broken loss reached 6.30 here
margin=${MARGIN:-5} # and by how much it must beat the broken run (12.89 − 6.30 here)
"$bin" run detection-learns --profile check --suites "$here/suites" --runs "$runs/real" --threads "${THREADS:-2}"
RKAN_DETECTION_LOSS_WEIGHTS=1,0,1,1,0 "$bin" run detection-learns --profile check --suites "$here/suites" --runs "$runs/broken" --threads "${THREADS:-2}"
python3 - "$runs" "$floor" "$margin" <<'PY'
import sys, h5py
runs, floor, margin = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def last(kind, name):
    with h5py.File(f"{runs}/{kind}/detection-learns/check/r18/seed-0.h5", "r") as f:
        return float(f["metrics"][name][-1])
r = {k: (last(k, "val_bbox_ap50"), last(k, "val_segm_ap50"), last(k, "val_bbox_ap")) for k in ("real", "broken")}
for k, (b50, m50, b) in r.items():
    print(f"{k:7s} box AP50 {b50:6.2f}  mask AP50 {m50:6.2f}  box AP {b:6.2f}")
ok = r["real"][0] >= floor and r["real"][0] - r["broken"][0] >= margin and r["broken"][0] < floor
print("learns: " + ("yes" if ok else "NO") + f" (bar: box AP50 >= {floor}, >= broken + {margin}, broken below {floor})")
sys.exit(0 if ok else 1)
PY
