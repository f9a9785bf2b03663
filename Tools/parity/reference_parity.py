"""Fidelity check: rkan-repro against the reference's own classes (withray/residualKAN, never copied here).

    python3 -m Tools.parity.reference_parity --reference DIR [--binary PATH] [--spec SPEC[:CLASSES[:PX]] ...] [--full] [--zoo] [--keep DIR]

DIR is a local copy of the reference at the commit named in Reports/fidelity.md. For every distinct
model spec of Suites/*.yaml (the reference has no width option, so width 1 at the smoke profile's
resolution; with --full also resnet101+rkan at 128 px and densenet169+rkan at 224 px), it builds the
reference's class with the notebook's arguments (Tools/reference/models.py) and
1. weights: with `rkan-repro init`, loads rkan-repro's initial weights into the reference class with
   strict=False and requires that the missing keys are exactly the modules the class builds but never
   calls (RKAN modules of other stages, gate/SE convs) and that nothing is unexpected; then feeds the
   reference's OWN initial state dict, unused keys included, to `rkan-repro forward` (it must accept
   it). With a binary that has no `init` command, the reference's initial weights (used keys only,
   legacy key names) are the exchanged weights.
2. outputs: eval logits, train-mode loss and every used parameter's gradient of `rkan-repro forward` on
   those weights against the reference (float64 truth; bounds max(threshold, 2 × the reference's own
   float32 noise), the policy of Tools/parity/twin_parity.py; logits threshold 1e-5).
3. init statistics (with `init`): per tensor, mean/std (within 4 standard errors) and the
   distribution family (excess kurtosis) of rkan-repro's init against the reference's own init.
Prints a markdown table; exit 1 when a spec fails, 2 when the binary or the reference is missing.
"""
import argparse
import copy
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import torch
import yaml

from Tools import ROOT
from Tools.h5io import read_group, read_output, run_forward, write_input, write_weights
from Tools.reference.models import KeyMap, Unsupported, build_reference, count, load_reference, used_keys
from Tools.reference.stats import compare_init, compare_outputs, rel_err
from Tools.twin.spec import parse_spec
CLASSES = {"cifar100": 100, "tiny-imagenet": 200, "food101": 101, "imagenet": 1000, "fashion-mnist": 10}
FULL = [("resnet101+rkan", 100, 128, "cifar100 (full size)"), ("densenet169+rkan", 1000, 224, "imagenet (full size)")]
# --zoo: zoo specs beyond the suites that the reference's classes can build (they replaced the
# full-width Chebyshev specs of Tools/parity/twin_parity.py, the twin check).
ZOO = [(s, 10, 32, "zoo") for s in ["wide_resnet50_2", "resnext50_32x4d+rkan(inv=2)", "resnet50+rkan(stages=3/4)",
                                   "resnet50+rkan(stages=1/2/3/4,mech=gating)", "resnet50+rkan(stages=2/4,mech=se)",
                                   "regnet_y_400mf", "regnet_y_400mf+rkan(stages=2/3/4)", "densenet121+rkan(stages=1/2/3/4)",
                                   "densenet121+rkan(mech=se)",
                                   # kan=rbf / b_spline (FastKANLayer, KANLinear at c6a179c): grid sizes 3/2, or 3/3 on
                                   # the classes that pass none (RKAN_SENet, RKAN_ResNet_D)
                                   "resnet50+rkan(kan=rbf)", "resnet50+rkan(kan=b_spline)", "seresnet50+rkan(kan=b_spline)",
                                   "resnet101d+rkan(kan=rbf)", "regnet_y_400mf+rkan(kan=b_spline)", "densenet121+rkan(kan=rbf)",
                                   "ela_l_resnet50+rkan(kan=rbf)"]]
BATCH, SEED = 8, 0  # batch 8: train-mode BN at 1×1 spatial (stage 4 at 32 px) is ill-conditioned with 2


def suite_cases():
    """[(spec, classes, resolution, suite)] of the distinct specs of Suites/*.yaml at the smoke profile."""
    cases, seen = [], set()
    for path in sorted(glob.glob(os.path.join(ROOT, "Suites", "*.yaml"))):
        s = yaml.safe_load(open(path))
        name = s["suite"]
        if name not in CLASSES:   # coco: detection; its backbones are ImageNet rows too
            continue
        size = s.get("profiles", {}).get("smoke", {}).get("resolution", s["dataset"]["resolution"])
        for row in s["experiments"]:
            spec = str(parse_spec(row["model"]))
            if spec not in seen:
                seen.add(spec)
                cases.append((spec, CLASSES[name], size, name))
    return cases


def run(cmd, args):
    p = subprocess.run(cmd + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(shlex.quote(a) for a in cmd + args)}: exit {p.returncode}\n{(p.stdout + p.stderr).strip()[-1500:]}")
    return p


def has_init(cmd):
    """Whether the binary has the `init` subcommand; a binary without it answers with the root help."""
    p = subprocess.run(cmd + ["--help"], capture_output=True, text=True)
    return any(line.split()[:1] == ["init"] for line in p.stdout.splitlines())


def repro_init(cmd, spec, classes, seed, path):
    run(cmd, ["init", spec, "--classes", str(classes), "--seed", str(seed), "--out", path])
    return {k: torch.from_numpy(v) for k, v in read_group(path, "weights").items()}


def add_draws(cmd, spec, classes, seeds, path, ref_draws, repro_draws, keymap):
    """Appends the reference's own init (a fresh build per seed) and `rkan-repro init` (same seeds) of
    the keys of `ref_draws` (reference names) / `repro_draws` (rkan-repro names)."""
    for s in seeds:
        extra, _ = build_reference(spec, classes, s)
        for k, v in extra.state_dict().items():
            if k in ref_draws:
                ref_draws[k].append(v.numpy())
        for k, v in repro_init(cmd, spec, classes, s, f"{path}.{s}").items():
            if k in repro_draws:
                repro_draws[k].append(v.numpy())


def expected_outputs(ref, state, x, labels, names):
    """Reference outputs on `state`: float32 eval/train, float64 eval/train, 2 perturbed float32 train passes.

    `ref` is the reference model (float32); every pass starts from `state` (train passes move BN statistics).
    """
    m32, m64 = ref, copy.deepcopy(ref).double()

    def fresh(m):
        dtype = next(m.parameters()).dtype
        m.load_state_dict({k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()})
        return m
    out = {"eval": run_forward(fresh(m32), x)["logits"], "eval64": run_forward(fresh(m64), x.double())["logits"],
           "train": run_forward(fresh(m32), x, labels, grad=True, names=names),
           "truth": run_forward(fresh(m64), x.double(), labels, grad=True, names=names), "perturbed": []}
    for j in range(2):
        g = torch.Generator().manual_seed(SEED + 7 + j)
        xp = x * (1 + 1e-6 * torch.randn(x.shape, generator=g))
        out["perturbed"].append(run_forward(fresh(m32), xp, labels, grad=True, names=names))
    return out


def check_spec(cmd, spec, classes, size, folder, draws):
    """One table row: (cells, failures)."""
    fails, cells = [], {}
    ref, attr = build_reference(spec, classes, SEED)
    own = {k: v.clone() for k, v in ref.state_dict().items()}
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(BATCH, 3, size, size, generator=g)
    labels = torch.randint(0, classes, (BATCH,), generator=g)
    used = used_keys(ref, x)
    ref.load_state_dict(own)   # the probe pass moved BN running statistics
    cells["keys"] = f"{len(used)}/{len(own)}"
    init = has_init(cmd)
    keymap = KeyMap(spec, attr, "current" if init else "legacy")
    files = {k: os.path.join(folder, f"{k}.h5") for k in ("W", "Wref", "X", "Y", "Ygrad", "Yref")}
    write_input(files["X"], x, labels, 0.0)
    if init:
        repro = repro_init(cmd, spec, classes, SEED, files["W"])
        back = keymap.inverse(own)
        unexpected = sorted(k for k in repro if k not in back)
        mapped = {back[k]: v for k, v in repro.items() if k in back}
        bad = [k for k, v in mapped.items() if tuple(v.shape) != tuple(own[k].shape)]
        missing = set(own) - set(mapped)
        if unexpected or bad:
            fails.append(f"init weights do not load into the reference class: unexpected {unexpected[:4]}, shapes {bad[:4]}")
        if missing != set(own) - used:
            fails.append(f"strict=False: missing keys used by the forward pass {sorted(missing & used)[:4]}; "
                         f"loaded but unused {sorted((set(own) - used) - missing)[:4]}")
        if not fails:
            ref.load_state_dict({k: v.to(own[k].dtype) for k, v in mapped.items()}, strict=False)
        state = {k: v.clone() for k, v in ref.state_dict().items()}
        # the reference's own init, unused modules included, must be accepted by rkan-repro
        write_weights(files["Wref"], {keymap.to_repro(k): v for k, v in own.items()})
        try:
            run(cmd, ["forward", "--model", spec, "--classes", str(classes), "--weights", files["Wref"],
                      "--input", files["X"], "--output", files["Yref"]])
            ref.load_state_dict(own)
            e = rel_err(read_output(files["Yref"])["logits"], run_forward(ref, x)["logits"])
            cells["ref→repro"] = f"{e:.1e}"
            if not e <= 1e-4:
                fails.append(f"reference state dict (all keys) → rkan-repro: logits rel err {e:.2e}")
        except RuntimeError as err:
            cells["ref→repro"] = "rejected"
            fails.append(f"rkan-repro rejects the reference's full state dict: {str(err).splitlines()[-1][:200]}")
        ref_draws = {k: [own[k].numpy()] for k in own if own[k].is_floating_point()}
        repro_draws = {keymap.to_repro(k): [] for k in ref_draws}
        for k, v in repro.items():
            if k in repro_draws:
                repro_draws[k].append(v.numpy())
        small = count(ref) < 50_000_000
        ref_used = {k: v for k, v in ref_draws.items() if k in used}
        seeds = range(SEED + 1, SEED + (draws if small else 1))
        add_draws(cmd, spec, classes, seeds, files["W"], ref_used, repro_draws, keymap)
        init_fails = compare_init({k: v for k, v in repro_draws.items() if v},
                                  {keymap.to_repro(k): v for k, v in ref_used.items()})
        if init_fails:
            # Hundreds of tensors × three statistics: a 4-SE screen flags about one tensor in a few
            # specs by chance. A flagged tensor counts as different only if fresh draws (new seeds on
            # both sides, alone) differ beyond 4 SE again.
            flagged = {f.split(":", 1)[0] for f in init_fails}
            fresh_ref = {k: [] for k, v in ref_used.items() if keymap.to_repro(k) in flagged}
            fresh_repro = {keymap.to_repro(k): [] for k in fresh_ref}
            # A tensor of a few values (a KAN's one bias) needs more draws for a std and a mean to mean
            # anything: at least 30 values per side, at most 40 draws.
            fewest = min(ref_used[k][0].size for k in fresh_ref) if fresh_ref else 1
            n_fresh = min(40, max(draws, 2, -(-30 // max(fewest, 1))))
            add_draws(cmd, spec, classes, range(SEED + 100, SEED + 100 + n_fresh), files["W"], fresh_ref, fresh_repro, keymap)
            confirmed = compare_init(fresh_repro, {keymap.to_repro(k): v for k, v in fresh_ref.items()})
            cells["init"] = f"{len(confirmed)} differ" if confirmed else f"ok ({len(flagged)} flagged, not confirmed)"
            init_fails = [f"{f} (confirmed on fresh draws; first screen: {next(g for g in init_fails if g.startswith(f.split(':', 1)[0] + ':'))})"
                          for f in confirmed]
        else:
            cells["init"] = "ok"
        fails += [f"init {f}" for f in init_fails]
        write_weights(files["W"], {keymap.to_repro(k): state[k] for k in state if k in used})
    else:
        state = own
        write_weights(files["W"], keymap.state_to_repro(own, used))
        cells["init"] = cells["ref→repro"] = "needs init"
    # Trained parameters only: FastKANLayer keeps its rbf grid as nn.Parameter(requires_grad=False),
    # which has no gradient in the reference either (rkan-repro stores it as a buffer).
    names = {k: keymap.to_repro(k) for k, p in ref.named_parameters() if k in used and p.requires_grad}
    expected = expected_outputs(ref, state, x, labels, names)
    try:
        base = ["forward", "--model", spec, "--classes", str(classes), "--weights", files["W"], "--input", files["X"]]
        run(cmd, base + ["--output", files["Y"]])
        run(cmd, base + ["--output", files["Ygrad"], "--grad"])
        e_l, e_loss, e_g, key, f = compare_outputs(read_output(files["Y"]), read_output(files["Ygrad"]), expected)
        cells.update(logits=f"{e_l:.1e}", loss=f"{e_loss:.1e}", grads=f"{e_g:.1e} ({key.rsplit('(', 1)[-1].rstrip(')')})", worst=key)
        fails += f
    except RuntimeError as err:
        cells.update(logits="error", loss="-", grads="-", worst=str(err).splitlines()[-1][:120])
        fails.append(str(err).splitlines()[-1][:300])
    return cells, fails


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="local copy of withray/residualKAN")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/rkan-repro"))
    ap.add_argument("--spec", action="append", help="SPEC[:CLASSES[:SIZE]] (repeatable; default: every suite spec)")
    ap.add_argument("--full", action="store_true", help="also resnet101+rkan at 128 px and densenet169+rkan at 224 px")
    ap.add_argument("--zoo", action="store_true", help="also the zoo specs beyond the suites (gating, se, other stages)")
    ap.add_argument("--draws", type=int, default=3, help="init draws per side for models under 50M parameters")
    ap.add_argument("--keep", metavar="DIR", help="keep the HDF5 files under DIR")
    a = ap.parse_args()
    try:
        load_reference(a.reference)
    except FileNotFoundError as e:
        print(f"reference_parity: {e}", file=sys.stderr)
        sys.exit(2)
    cmd = shlex.split(a.binary)
    if not (os.path.isfile(cmd[0]) and os.access(cmd[0], os.X_OK)) and not shutil.which(cmd[0]):
        print(f"reference_parity: cannot run '{a.binary}'. HINT: `swift build -c release --product rkan-repro` "
              f"or pass --binary PATH.", file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if a.spec:
        cases = []
        for t in a.spec:
            p = t.split(":")
            cases.append((str(parse_spec(p[0])), int(p[1]) if len(p) > 1 else 10, int(p[2]) if len(p) > 2 else 32, "--spec"))
    else:
        cases = suite_cases()
    cases += (FULL if a.full else []) + (ZOO if a.zoo else [])
    root = a.keep or tempfile.mkdtemp(prefix="rkan-refparity-")
    print(f"reference: {os.path.abspath(a.reference)}; binary: {a.binary} ({'init' if has_init(cmd) else 'no init: legacy keys'})")
    print("| spec | suite | classes | px | keys used/built | logits | loss | grads (f32 noise) | ref→repro | init stats | result |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failed, notes = 0, []
    for spec, classes, size, suite in cases:
        folder = os.path.join(root, f"{spec}-{size}".replace("/", "-"))
        os.makedirs(folder, exist_ok=True)
        try:
            cells, fails = check_spec(cmd, spec, classes, size, folder, a.draws)
        except Unsupported as e:
            print(f"| {spec} | {suite} | {classes} | {size} | - | - | - | - | - | - | no reference class: {e} |")
            continue
        result = "pass" if not fails else "FAIL"
        failed += bool(fails)
        print(f"| {spec} | {suite} | {classes} | {size} | {cells['keys']} | {cells['logits']} | {cells['loss']} | "
              f"{cells['grads']} | {cells['ref→repro']} | {cells['init']} | {result} |", flush=True)
        notes += [f"{spec} @{size}: {f}" for f in fails[:6]]
    if notes:
        print("\nFailures:")
        for n in notes:
            print(f"- {n}")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{len(cases) - failed}/{len(cases)} rows without failure (rows without a reference class count as such)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
