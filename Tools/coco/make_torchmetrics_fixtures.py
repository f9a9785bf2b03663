#!/usr/bin/env python3
"""Writes Tests/Fixtures/coco/torchmetrics.json: what torchmetrics' MeanAveragePrecision
(pycocotools backend, class_metrics=True, max detections 1/10/100) returns, called as the
reference notebook calls it (one metric with iou_type="bbox", one with "segm", float32 boxes and
scores, uint8 masks), for generated batches; COCOTests compares `TorchmetricsMAP` with it.

Cases include images without targets (the segm metric leaves them out), images without
detections, labels only in targets or only in detections, ties in score, and objects of every
area range. Boxes and scores are float32 (written as hex floats), masks as compressed RLEs.

Usage: python3 -m Tools.coco.make_torchmetrics_fixtures   (needs torch, torchmetrics 1.4, pycocotools)
"""
import argparse
import importlib.metadata
import json

import numpy as np
import torch
from pycocotools import mask as mask_utils
from torchmetrics.detection import MeanAveragePrecision

KEYS = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1", "mar_10", "mar_100",
        "mar_small", "mar_medium", "mar_large"]


def shape_mask(rng, h, w, scale):
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    rx, ry = rng.uniform(1, scale), rng.uniform(1, scale)
    a = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 10))))
    poly = []
    for t in a:
        poly += [cx + rx * np.cos(t), cy + ry * np.sin(t)]
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([poly], h, w)))


def box_of(m):
    ys, xs = np.nonzero(m)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def make_case(rng, idx):
    n_images = int(rng.integers(1, 6))
    labels_pool = list(rng.choice(np.arange(1, 9), size=int(rng.integers(1, 5)), replace=False))
    samples = []
    for i in range(n_images):
        h, w = int(rng.integers(40, 260)), int(rng.integers(40, 260))
        t_masks, t_boxes, t_labels = [], [], []
        n_t = 0 if rng.uniform() < 0.2 else int(rng.integers(1, 6))
        for _ in range(n_t):
            m = shape_mask(rng, h, w, rng.choice([6, 20, 60, 130]))
            if m.sum() == 0:
                continue
            b = box_of(m)
            b = [v + float(rng.uniform(-0.5, 0.5)) for v in b]
            t_masks.append(m); t_boxes.append(b); t_labels.append(int(rng.choice(labels_pool)))
        p_masks, p_boxes, p_labels, p_scores = [], [], [], []
        for k in range(len(t_masks)):
            if rng.uniform() < 0.3:
                continue
            m = np.roll(t_masks[k], (int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), axis=(0, 1))
            if m.sum() == 0:
                continue
            b = [v + float(rng.uniform(-4, 4)) for v in t_boxes[k]]
            b[2], b[3] = max(b[2], b[0] + 0.5), max(b[3], b[1] + 0.5)
            p_masks.append(m); p_boxes.append(b)
            p_labels.append(t_labels[k] if rng.uniform() < 0.85 else int(rng.integers(1, 10)))
            p_scores.append(float(rng.uniform()) if rng.uniform() < 0.6 else round(float(rng.uniform()), 1))
        for _ in range(int(rng.integers(0, 4))):
            m = shape_mask(rng, h, w, 30)
            if m.sum() == 0:
                continue
            p_masks.append(m); p_boxes.append(box_of(m)); p_labels.append(int(rng.integers(1, 10)))
            p_scores.append(float(rng.uniform()))
        samples.append({"h": h, "w": w, "t_masks": t_masks, "t_boxes": t_boxes, "t_labels": t_labels,
                        "p_masks": p_masks, "p_boxes": p_boxes, "p_labels": p_labels, "p_scores": p_scores})

    def tensors(s):
        h, w = s["h"], s["w"]
        target = {"boxes": torch.tensor(s["t_boxes"], dtype=torch.float32).reshape(-1, 4),
                  "labels": torch.tensor(s["t_labels"], dtype=torch.int64),
                  "masks": torch.tensor(np.array(s["t_masks"]), dtype=torch.uint8).reshape(-1, h, w)}
        pred = {"boxes": torch.tensor(s["p_boxes"], dtype=torch.float32).reshape(-1, 4),
                "scores": torch.tensor(s["p_scores"], dtype=torch.float32),
                "labels": torch.tensor(s["p_labels"], dtype=torch.int64),
                "masks": torch.tensor(np.array(s["p_masks"]), dtype=torch.uint8).reshape(-1, h, w)}
        return pred, target

    preds, targets = zip(*[tensors(s) for s in samples])
    out = {"name": f"case{idx}", "samples": []}
    for s, p, t in zip(samples, preds, targets):
        def rles(ms):
            return [mask_utils.encode(np.asfortranarray(m.numpy()))["counts"].decode("ascii") for m in ms]
        out["samples"].append({
            "h": s["h"], "w": s["w"],
            "t_boxes": [float(v).hex() for v in t["boxes"].flatten().tolist()], "t_labels": t["labels"].tolist(),
            "t_masks": rles(t["masks"]),
            "p_boxes": [float(v).hex() for v in p["boxes"].flatten().tolist()], "p_labels": p["labels"].tolist(),
            "p_scores": [float(v).hex() for v in p["scores"].tolist()], "p_masks": rles(p["masks"])})
    for iou_type in ("bbox", "segm"):
        metric = MeanAveragePrecision(iou_type=iou_type, iou_thresholds=None, class_metrics=True, max_detection_thresholds=[1, 10, 100])
        metric.update(list(preds), list(targets))
        r = metric.compute()
        out[iou_type] = {"stats": [float(r[k].item()).hex() for k in KEYS],
                         "classes": [int(c) for c in r["classes"].flatten().tolist()],
                         "ap": [float(v).hex() for v in r["map_per_class"].flatten().tolist()],
                         "ar": [float(v).hex() for v in r["mar_100_per_class"].flatten().tolist()]}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="Tests/Fixtures/coco/torchmetrics.json")
    ap.add_argument("--cases", type=int, default=60)
    args = ap.parse_args()
    rng = np.random.default_rng(99)
    cases = [make_case(rng, i) for i in range(args.cases)]
    with open(args.out, "w") as f:
        json.dump({"torchmetrics": importlib.metadata.version("torchmetrics"), "pycocotools": importlib.metadata.version("pycocotools"),
                   "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(f"{args.out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
