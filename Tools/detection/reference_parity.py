"""Fidelity of the detector: `rkan-repro forward` against the reference's own RKAN_RCNN (developer tool).

    python3 -m Tools.detection.reference_parity --reference DIR [--binary PATH] [--row SPEC ...] [--keep DIR] [--threads N]
    python3 -m Tools.detection.reference_parity --reference DIR --roundtrip [--binary PATH]

DIR is a local copy of withray/residualKAN holding `residual_networks/RKAN_RCNN.py`,
`residual_networks/RKAN_ResNet.py`, `residual_networks/RKAN_DenseNet.py` (imported by RKAN_RCNN) and
`KAN_Conv/` (Reports/fidelity.md, "Detection", says which versions). For each row of the COCO table
(default: maskrcnn(resnet50), maskrcnn(resnet50+rkan), maskrcnn(resnet50+rkan(inv=2))) it builds
`RKAN_RCNN(num_classes=81, detector_type="mask", input_size=640)` with the notebook's arguments
(`22e50367:training.ipynb`, "Object Detection": spline_order (3, 2), grid_size (3, 2), inv_bottleneck /
inv_factor for RKAN-L, weights_path None), writes its whole `state_dict()` (every alias) to HDF5 and
1. eval: runs `rkan-repro forward` and RKAN_RCNN in float32 and float64 on three images of different
   sizes (smooth textures with drawn shapes) and compares boxes, scores, labels and masks;
2. train: runs `rkan-repro forward --grad` on two of the images with the shapes as targets, injects
   its draws into torchvision (the RPN's sampled anchors into its sampler; the box head's sampled
   candidates as their boxes, `/draws/i/roi_boxes`, into `select_training_samples`, because the
   indices name them in rkan-repro's proposal list, which near-ties in top-n and NMS can reorder),
   and compares the five losses and every parameter gradient.
With --roundtrip: the weights converter (Tools/weights/pth_h5.py) from RKAN_RCNN to rkan-repro and
back: RKAN_RCNN's state dict saved as .pth, converted to HDF5 in rkan-repro's naming, loaded by
`rkan-repro forward` (same detections as from the file with every alias), converted back with a
freshly built RKAN_RCNN as template, loaded with strict=True, and the eval output of the result equal
to the original's.

Errors are max |Δ| / max |float64 reference| per tensor; torch's own float32 error against its float64
result is printed beside each (the conditioning of the comparison). Exit 1 when a row exceeds a bound.

The stored RKAN_RCNN (815a357) takes none of the notebook's spline_order, grid_size, inv_bottleneck,
inv_factor, weights_path: with that file the tool passes them to the RKANet it builds instead
(`adapt_stored_class`), the one change needed. A newer RKAN_RCNN that takes them is used as it is.
Random weights are conditioned first (`prepare`): BatchNorm statistics of the images, objectness
and class logits scaled to a useful spread, so that proposals and detections are not decided by
rounding.
"""
import argparse
import functools
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import torch

from Tools import ROOT
from Tools.h5io import write_weights
from Tools.weights.pth_h5 import to_h5, to_pth
from Tools.reference import use_copy
from Tools.twin.spec import parse_spec

ROWS = ["maskrcnn(resnet50)", "maskrcnn(resnet50+rkan)", "maskrcnn(resnet50+rkan(inv=2))"]
# (H, W) of the eval images; the first two are the training batch. The transform resizes each to
# 640 on its shorter side (at most 1066 on its longer one).
SIZES = [(300, 400), (330, 480), (420, 300)]
SEED = 0
# Bounds on max |Δ| / max |float64| (rkan-repro float32 against torch float64), each at least twice
# torch's own float32 error (the bound printed is the larger). ResNet-50 in float32 from random
# weights keeps about 6 digits through 16 blocks; the RPN and heads add sums of 1000s of terms.
BOUNDS = {"boxes": 1e-4, "scores": 1e-4, "masks": 1e-3, "loss": 1e-4, "grad": 1e-3}


def adapt_stored_class(module, kw):
    """RKAN_RCNN from `module` built with the notebook's arguments `kw`; returns (model, how)."""
    cls = module.RKAN_RCNN
    accepted = inspect.signature(cls.__init__).parameters
    extra = {k: kw.pop(k) for k in ["spline_order", "grid_size", "inv_bottleneck", "inv_factor"] if k not in accepted}
    kw.pop("weights_path", None) if "weights_path" not in accepted else None
    if not extra:
        return cls(**kw), "RKAN_RCNN takes the notebook's arguments"
    original = module.RKANet
    module.RKANet = functools.partial(original, **extra)
    try:
        return cls(**kw), f"stored RKAN_RCNN: {sorted(extra)} passed to its RKANet"
    finally:
        module.RKANet = original


def build_reference(row):
    """RKAN_RCNN for a row spec (`maskrcnn(resnet50…)`) with the notebook's arguments."""
    import residual_networks.RKAN_RCNN as module
    spec = parse_spec(row[len("maskrcnn("):-1] if row.startswith("maskrcnn(") else row)
    if spec.backbone != "resnet50" or spec.width != 1 or spec.stem != "standard":
        raise SystemExit(f"{row}: RKAN_RCNN builds torchvision ResNets only (the COCO table's seresnet50 rows have no reference detector)")
    r = spec.rkan
    kw = dict(num_classes=81, backbone_name="resnet50", kan_type="chebyshev", detector_type="mask", pretrained=False,
              reduce_factor=[2, 2, 2, 2], mechanisms=[None] * 4, input_size=640, weights_path=None,
              spline_order=(3, 2), grid_size=(3, 2), inv_bottleneck=False, inv_factor=4)
    if r is not None:
        kw["mechanisms"] = [r.mech if i + 1 in r.stages else None for i in range(4)]
        kw["kan_type"], kw["reduce_factor"], kw["spline_order"] = r.kan, [r.reduce] * 4, (r.degree, r.degree2)
        if r.inv is not None:
            kw["inv_bottleneck"], kw["inv_factor"] = True, r.inv
    torch.manual_seed(SEED)
    return adapt_stored_class(module, kw)


def prepare(model, scenes, rpn_std=2.0, cls_std=3.0):
    """Conditions the randomly initialised detector for a meaningful comparison; returns the model.

    Random ResNet-50 weights with BatchNorm's initial running statistics (0, 1) give eval-mode
    activations of 1e3 and more, and torchvision's head inits (objectness and class logits
    N(0, 0.01²)) leave every anchor's logit and every class score nearly equal: top-n, NMS, the
    0.05 score threshold and the sort then decide on float32 rounding, and even torch's own
    float32 and float64 runs pick different proposals and detections. So (as a trained network
    would be) the BatchNorm running statistics are those of the images (one train-mode pass of
    the body with cumulative averaging), and the objectness and class-score weights are scaled so
    that their logits have standard deviations `rpn_std` and `cls_std` on these images.
    """
    m = model.model
    bns = [b for b in model.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    images = [torch.from_numpy(s[0]) for s in scenes]
    with torch.no_grad():
        for b in bns:
            b.reset_running_stats()
            b.momentum = None
        model.train()
        il, _ = m.transform(images)
        m.backbone(il.tensors)
        for b in bns:
            b.momentum = 0.1
        model.eval()
        il, _ = m.transform(images)
        feats = m.backbone(il.tensors)
        logits, _ = m.rpn.head(list(feats.values()))
        m.rpn.head.cls_logits.weight.mul_(rpn_std / torch.cat([x.flatten() for x in logits]).std())
        proposals, _ = m.rpn(il, feats)
        x = m.roi_heads.box_head(m.roi_heads.box_roi_pool(feats, proposals, il.image_sizes))
        scores = m.roi_heads.box_predictor.cls_score(x)
        m.roi_heads.box_predictor.cls_score.weight.mul_(cls_std / scores.std())
    return model


def scene(h, w, rng):
    """A smooth random texture with 2–3 filled shapes (rectangle, ellipse): (image (3,H,W) in [0,1], boxes, labels, masks)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((3, h, w))
    for _ in range(6):
        cy, cx, s = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.1, 0.4) * min(h, w)
        img += rng.uniform(-0.5, 0.5, (3, 1, 1)) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    img = 0.5 + 0.5 * np.tanh(img)
    boxes, labels, masks = [], [], []
    for k in range(rng.integers(2, 4)):
        x1, y1 = rng.uniform(0, 0.6) * w, rng.uniform(0, 0.6) * h
        x2, y2 = x1 + rng.uniform(0.2, 0.4) * w, y1 + rng.uniform(0.2, 0.4) * h
        if k % 2 == 0:
            m = (xx >= x1) & (xx < x2) & (yy >= y1) & (yy < y2)
        else:
            m = ((xx - (x1 + x2) / 2) / ((x2 - x1) / 2)) ** 2 + ((yy - (y1 + y2) / 2) / ((y2 - y1) / 2)) ** 2 <= 1
        img[:, m] = rng.uniform(0, 1, (3, 1)) * 0.8 + 0.1 + 0.05 * np.sin(xx[m] / 7.0)[None]
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        labels.append(int(rng.integers(1, 81)))
        masks.append(m.astype(np.uint8))
    return (np.clip(img, 0, 1).astype(np.float32), np.array(boxes, np.float32), np.array(labels, np.int64), np.stack(masks))


def write_input(path, scenes, targets=False, draws=None):
    with h5py.File(path, "w") as f:
        for i, (img, boxes, labels, masks) in enumerate(scenes):
            f[f"images/{i}"] = img
            if targets:
                f[f"targets/{i}/boxes"], f[f"targets/{i}/labels"], f[f"targets/{i}/masks"] = boxes, labels, masks
        for i, d in enumerate(draws or []):
            for k, v in d.items():
                f[f"draws/{i}/{k}"] = np.asarray(v, np.int64)


def read_output(path):
    out = {"detections": [], "losses": {}, "grads": {}, "draws": []}
    with h5py.File(path, "r") as f:
        for i in range(len(f.get("detections", {}))):
            g = f[f"detections/{i}"]
            out["detections"].append({k: np.asarray(g[k][()]) for k in ["boxes", "scores", "labels", "masks"]})
        for k, d in f.get("losses", {}).items():
            out["losses"][k] = float(d[()])
        for k, d in f.get("grads", {}).items():
            out["grads"][k] = np.asarray(d[()])
        for i in range(len(f.get("draws", {}))):
            g = f[f"draws/{i}"]
            out["draws"].append({k: np.asarray(g[k][()]) for k in ["rpn_positive", "rpn_negative", "roi", "roi_boxes"] if k in g})
    return out


def rkan_repro(binary, row, weights, x, y, grad, threads):
    cmd = [binary, "forward", "--model", row, "--classes", "81", "--weights", weights, "--input", x, "--output", y, "--threads", str(threads)]
    t = time.time()
    p = subprocess.run(cmd + (["--grad"] if grad else []), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{(p.stdout + p.stderr)[-2000:]}")
    return read_output(y), time.time() - t


def torch_eval(model, scenes, dtype):
    m = model.to(dtype).eval()
    with torch.no_grad():
        res = m([torch.from_numpy(s[0]).to(dtype) for s in scenes])
    return [{"boxes": r["boxes"].double().numpy(), "scores": r["scores"].double().numpy(), "labels": r["labels"].numpy(),
             "masks": r["masks"].double().numpy()} for r in res]


class InjectedSampler:
    """torchvision's fg_bg_sampler replaced by given draws: per image, positive and negative indices
    (RPN), or candidate indices split by their labels (box head)."""

    def __init__(self, draws, kind):
        self.draws, self.kind = draws, kind

    def __call__(self, labels):
        pos, neg = [], []
        for lab, d in zip(labels, self.draws):
            p, n = torch.zeros_like(lab, dtype=torch.uint8), torch.zeros_like(lab, dtype=torch.uint8)
            if self.kind == "rpn":
                p[torch.from_numpy(d["rpn_positive"])] = 1
                n[torch.from_numpy(d["rpn_negative"])] = 1
            else:
                idx = torch.from_numpy(d["roi"])
                chosen = torch.zeros_like(lab, dtype=torch.bool)
                chosen[idx] = True
                p[chosen & (lab >= 1)] = 1
                n[chosen & (lab == 0)] = 1
            pos.append(p), neg.append(n)
        return pos, neg


def reference_grad_names(model):
    """{parameter: rkan-repro key}: the torchvision part under its own names, the RKAN blocks under `rkan_components.`."""
    names = {p: k for k, p in model.model.named_parameters()}
    for k, p in model.rkan_components.named_parameters():
        if p not in names and not k.startswith("resnet."):
            names[p] = "rkan_components." + k
    return names


def injected_samples(heads, draws):
    """RoIHeads.select_training_samples on the given sampled boxes (rkan-repro's `/draws/i/roi_boxes`):
    torchvision's matching and box coding of exactly those candidates, in their order. The box head
    then sees the same regions even where the two RPNs' proposal lists differ by a near-tie."""
    def select(proposals, targets):
        dtype = proposals[0].dtype
        gt_boxes = [t["boxes"].to(dtype) for t in targets]
        props = [torch.from_numpy(d["roi_boxes"]).to(dtype) for d in draws]
        matched, labels = heads.assign_targets_to_proposals(props, gt_boxes, [t["labels"] for t in targets])
        gts = [g[mi] if g.numel() else torch.zeros((1, 4), dtype=dtype)[mi] for g, mi in zip(gt_boxes, matched)]
        return props, matched, labels, heads.box_coder.encode(gts, props)
    return select


def torch_train(model, scenes, draws, dtype):
    m = model.to(dtype).train()
    rpn, heads = m.model.rpn, m.model.roi_heads
    saved = rpn.fg_bg_sampler, heads.fg_bg_sampler
    rpn.fg_bg_sampler, heads.fg_bg_sampler = InjectedSampler(draws, "rpn"), InjectedSampler(draws, "roi")
    if all("roi_boxes" in d for d in draws):
        heads.select_training_samples = injected_samples(heads, draws)
    try:
        m.zero_grad(set_to_none=True)
        images = [torch.from_numpy(s[0]).to(dtype) for s in scenes]
        targets = [{"boxes": torch.from_numpy(s[1]).to(dtype), "labels": torch.from_numpy(s[2]), "masks": torch.from_numpy(s[3])} for s in scenes]
        losses = m(images, targets)
        sum(losses.values()).backward()
    finally:
        rpn.fg_bg_sampler, heads.fg_bg_sampler = saved
        heads.__dict__.pop("select_training_samples", None)
    names = reference_grad_names(m)
    grads = {names[p]: p.grad.double().numpy() for p in names if p.grad is not None}
    return {k: float(v.detach()) for k, v in losses.items()}, grads


def group_of(key):
    """The part of the detector a parameter belongs to, for the gradient summary."""
    for prefix, name in [("backbone.body.", "body"), ("rkan_components.", "RKAN blocks"), ("backbone.fpn.", "FPN"), ("rpn.", "RPN head"),
                         ("roi_heads.box", "box head"), ("roi_heads.mask", "mask head")]:
        if key.startswith(prefix):
            return name
    return "other"


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return math.inf
    scale = np.abs(b).max() if b.size else 0.0
    return float(np.abs(a - b).max() / scale) if b.size and scale > 0 else float(np.abs(a - b).max()) if b.size else 0.0


def iou(a, b):
    lt, rb = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = np.prod(np.clip(rb - lt, 0, None))
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return inter / union if union > 0 else 0.0


def match(ours, ref, threshold=0.9):
    """Pairs (j, k) of detections with the same label and IoU ≥ threshold, greedily in `ours`' order
    (best IoU first). Near-equal scores can swap two detections' places in the sorted output, and a
    score or overlap at a threshold can add or drop one, so detections are compared as matched pairs."""
    used, pairs = set(), []
    for j in range(len(ours["scores"])):
        best, bk = threshold, None
        for k in range(len(ref["scores"])):
            if k in used or ref["labels"][k] != ours["labels"][j]:
                continue
            v = iou(ours["boxes"][j], ref["boxes"][k])
            if v >= best:
                best, bk = v, k
        if bk is not None:
            used.add(bk)
            pairs.append((j, bk))
    return pairs


def detection_errors(ours, ref):
    """Errors of matched pairs and what is left unmatched (with the highest score among them)."""
    pairs = match(ours, ref)
    j = np.array([p[0] for p in pairs], dtype=np.int64)
    k = np.array([p[1] for p in pairs], dtype=np.int64)
    out = {"matched": len(pairs), "unmatched": (len(ours["scores"]) - len(pairs), len(ref["scores"]) - len(pairs)),
           "in order": bool(len(pairs) == len(ref["scores"]) == len(ours["scores"]) and np.array_equal(j, k))}
    for key in ["boxes", "scores", "masks"]:
        out[key] = rel(ours[key][j], ref[key][k]) if len(pairs) else 0.0
    left = sorted(set(range(len(ref["scores"]))) - set(k.tolist()))
    out["top unmatched score"] = float(ref["scores"][left].max()) if left else None
    return out


def compare_detections(ours, f32, f64):
    """Per image: rkan-repro and torch float32, each against torch float64."""
    rows = []
    for i, (o, t, r) in enumerate(zip(ours, f32, f64)):
        rows.append({"image": i, "detections": (len(o["scores"]), len(t["scores"]), len(r["scores"])),
                     "score range": (float(r["scores"].min()), float(r["scores"].max())) if len(r["scores"]) else None,
                     "rkan-repro": detection_errors(o, r), "torch f32": detection_errors(t, r)})
    return rows


def roundtrip(args, folder, scenes):
    """The converter's round trip (module docstring); returns True when every step holds."""
    row = "maskrcnn(resnet50+rkan)"
    model, _ = build_reference(row)
    prepare(model, scenes)
    pth, h5, full = (os.path.join(folder, n) for n in ["rcnn.pth", "rcnn.h5", "rcnn-all-names.h5"])
    torch.save(model.state_dict(), pth)
    n, _, dropped = to_h5(pth, h5, only_detector=True)
    to_h5(pth, full)
    x = os.path.join(folder, "rt-x.h5")
    write_input(x, scenes[:1])
    a, _ = rkan_repro(args.binary, row, h5, x, os.path.join(folder, "rt-a.h5"), False, args.threads)
    b, _ = rkan_repro(args.binary, row, full, x, os.path.join(folder, "rt-b.h5"), False, args.threads)
    same_files = all(np.array_equal(p[k], q[k]) for p, q in zip(a["detections"], b["detections"]) for k in p)
    torch.manual_seed(1)
    template, _ = build_reference(row)   # other random values: nothing may be taken from it but unused modules
    like = os.path.join(folder, "template.pth")
    torch.save(template.state_dict(), like)
    back = os.path.join(folder, "back.pth")
    filled = to_pth(h5, back, like)
    fresh, _ = build_reference(row)
    fresh.load_state_dict(torch.load(back, weights_only=True), strict=True)
    before, after = torch_eval(model, scenes[:1], torch.float32), torch_eval(fresh, scenes[:1], torch.float32)
    same_model = all(np.array_equal(p[k], q[k]) for p, q in zip(before, after) for k in p)
    used = {k for k, v in model.state_dict().items()}
    result = {"state dict keys": len(used), "rkan-repro keys written": n, "aliases and unused left out": len(dropped),
              "rkan-repro detections": [len(d["scores"]) for d in a["detections"]],
              "same rkan-repro output from both namings": same_files,
              "keys filled from the template (never called)": len(filled), "filled prefixes": sorted({".".join(k.split(".")[:3]) for k in filled}),
              "strict load": True, "torch output of the round-tripped weights equals the original's": same_model}
    print(json.dumps(result, indent=1), flush=True)
    return same_files and same_model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", required=True, help="local copy of withray/residualKAN (see Reports/fidelity.md)")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "rkan-repro"))
    ap.add_argument("--row", action="append", help=f"a row spec (default {ROWS})")
    ap.add_argument("--keep", help="write the files here instead of a temporary folder")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--roundtrip", action="store_true", help="check the .pth <-> HDF5 converter through rkan-repro and RKAN_RCNN")
    args = ap.parse_args()
    try:
        use_copy(args.reference, needed=("KAN_Conv/KANConv.py", "residual_networks/RKAN_ResNet.py", "residual_networks/RKAN_RCNN.py"))
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    if not os.path.isfile(args.binary):
        print(f"--binary {args.binary}: not found; build with `swift build -c release`", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(SEED)
    scenes = [scene(h, w, rng) for h, w in SIZES]
    folder = args.keep or tempfile.mkdtemp(prefix="rkan-det-parity-")
    os.makedirs(folder, exist_ok=True)
    if args.roundtrip:
        ok = roundtrip(args, folder, scenes)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        print("OK" if ok else "FAIL")
        return 0 if ok else 1
    report, failed = {"torch": torch.__version__, "rows": []}, False
    for row in args.row or ROWS:
        model, how = build_reference(row)
        prepare(model, scenes)
        tag = row.replace("(", "_").replace(")", "").replace("+", "_").replace("=", "")
        w = os.path.join(folder, f"{tag}-w.h5")
        write_weights(w, model.state_dict())
        entry = {"row": row, "class": how, "state_dict keys": len(model.state_dict())}
        # eval
        x = os.path.join(folder, f"{tag}-x.h5")
        write_input(x, scenes)
        ours, seconds = rkan_repro(args.binary, row, w, x, os.path.join(folder, f"{tag}-y.h5"), False, args.threads)
        entry["eval seconds (rkan-repro)"] = round(seconds, 1)
        f32 = torch_eval(model, scenes, torch.float32)
        f64 = torch_eval(model, scenes, torch.float64)
        model.float()
        entry["eval"] = compare_detections(ours["detections"], f32, f64)
        for r in entry["eval"]:
            ours_e, t_e = r["rkan-repro"], r["torch f32"]
            if ours_e["unmatched"][1] > max(5, 2 * t_e["unmatched"][1]):
                failed = True
                r["FAIL"] = "unmatched detections"
            for k in ["boxes", "scores", "masks"]:
                b = max(BOUNDS[k], 2 * t_e[k])
                if ours_e[k] > b:
                    failed = True
                    r["FAIL " + k] = b
        # train
        if not args.skip_train:
            batch = scenes[:2]
            xt = os.path.join(folder, f"{tag}-xt.h5")
            write_input(xt, batch, targets=True)
            ours, seconds = rkan_repro(args.binary, row, w, xt, os.path.join(folder, f"{tag}-yt.h5"), True, args.threads)
            entry["train seconds (rkan-repro)"] = round(seconds, 1)
            l32, g32 = torch_train(model, batch, ours["draws"], torch.float32)
            l64, g64 = torch_train(model, batch, ours["draws"], torch.float64)
            model.float()
            losses = {}
            for k in l64:
                losses[k] = {"rkan-repro": ours["losses"][k], "torch f64": l64[k], "rel": abs(ours["losses"][k] - l64[k]) / abs(l64[k]),
                             "torch f32 rel": abs(l32[k] - l64[k]) / abs(l64[k])}
                if losses[k]["rel"] > max(BOUNDS["loss"], 2 * losses[k]["torch f32 rel"]):
                    failed = True
                    losses[k]["FAIL"] = True
            entry["losses"] = losses
            missing = sorted(set(g64) ^ set(ours["grads"]))
            errors = {k: (rel(ours["grads"][k], g64[k]), rel(g32[k], g64[k])) for k in g64 if k in ours["grads"]}
            groups = {}
            for k, (e, e32) in errors.items():
                g = groups.setdefault(group_of(k), {"tensors": 0, "worst": ("", 0.0), "torch f32 worst": ("", 0.0)})
                g["tensors"] += 1
                if e > g["worst"][1]:
                    g["worst"] = (k, e)
                if e32 > g["torch f32 worst"][1]:
                    g["torch f32 worst"] = (k, e32)
            # Per tensor: max(1e-3, 2 × torch's own float32 error on it); a tensor above that but below

            strict = [(k, e, e32) for k, (e, e32) in errors.items() if e > max(BOUNDS["grad"], 2 * e32)]
            bad = [t for t in strict if t[1] > max(2 * groups[group_of(t[0])]["torch f32 worst"][1], BOUNDS["grad"])]
            entry["gradients"] = {"count": len(ours["grads"]), "keys differing": missing[:10], "groups": groups,
                                  "above 2x own torch noise": [(k, round(e, 5), round(e32, 5)) for k, e, e32 in strict],
                                  "above the group's torch noise": bad}
            if missing or bad:
                failed = True
            entry["draws"] = [{k: len(v) for k, v in d.items()} for d in ours["draws"]]
        report["rows"].append(entry)
        print(json.dumps(entry, indent=1, default=str), flush=True)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
