#!/usr/bin/env python3
"""Writes Tests/Fixtures/coco/targets.json: the targets the reference notebook's
`coco_transform` (withray/residualKAN 22e50367, training.ipynb) makes before augmentation, for a
small generated instances file, which COCOTests compares with `NotebookTargets`.

The filter and mask code below restates the notebook's: keep `iscrowd == 0`, categories of the
80 (mapped to 1..80 by the notebook's list), boxes wider and taller than 2 px; polygons via
`merge(frPyObjects(seg, h, w))`, uncompressed RLE via `frPyObjects([seg], h, w)[0]`, compressed
RLE as is, then `decode`. The instances include crowd annotations, categories outside the 80
(12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91) and thin boxes.

Usage: python3 -m Tools.coco.make_target_fixtures
"""
import argparse
import importlib.metadata
import json

import numpy as np
from pycocotools import mask as coco_mask

COCO_CLASSES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33,
                34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
                62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90]
ID_TO_CLASS = {c: i + 1 for i, c in enumerate(COCO_CLASSES)}


def notebook_targets(anns, h, w):
    boxes, labels, masks, kept = [], [], [], []
    for ann in anns:
        if ann["iscrowd"] == 0 and ann["category_id"] in ID_TO_CLASS:
            b = ann["bbox"]
            if b[2] > 2 and b[3] > 2:
                boxes.append([b[0], b[1], b[0] + b[2], b[1] + b[3]])
                labels.append(ID_TO_CLASS[ann["category_id"]])
                kept.append(ann["id"])
                seg = ann["segmentation"]
                if isinstance(seg, list):
                    m = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(seg, h, w)))
                else:
                    if isinstance(seg.get("counts"), list):
                        seg = coco_mask.frPyObjects([seg], h, w)[0]
                    m = coco_mask.decode(seg)
                masks.append(m.astype(np.uint8))
    return boxes, labels, masks, kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="Tests/Fixtures/coco/targets.json")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    outside = [12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91]
    images, anns, expected = [], [], []
    ann_id = 100
    for i in range(40):
        h, w = int(rng.integers(16, 90)), int(rng.integers(16, 90))
        img = {"id": 5000 + i, "file_name": f"{5000 + i:012d}.jpg", "height": h, "width": w}
        images.append(img)
        these = []
        for _ in range(int(rng.integers(0, 7))):
            x, y = round(float(rng.uniform(-3, w - 2)), 2), round(float(rng.uniform(-3, h - 2)), 2)
            bw, bh = round(float(rng.choice([rng.uniform(0.5, 2.5), rng.uniform(2.01, w)])), 2), round(float(rng.uniform(1, h)), 2)
            poly = [x, y, x + bw, y, x + bw * 0.8, y + bh, x, y + bh * 0.6]
            poly = [round(v, 2) for v in poly]
            kind = rng.choice(["poly", "poly2", "rle", "crle"])
            if kind == "poly":
                seg = [poly]
            elif kind == "poly2":
                seg = [poly, [round(v + 3.1, 2) for v in poly]]
            else:
                r = coco_mask.merge(coco_mask.frPyObjects([poly], h, w))
                if kind == "crle":
                    seg = {"size": [h, w], "counts": r["counts"].decode("ascii")}
                else:
                    m = coco_mask.decode(r).ravel(order="F")
                    cnts, run, prev = [], 0, 0
                    for v in m:
                        if v != prev:
                            cnts.append(run); run = 0; prev = v
                        run += 1
                    cnts.append(run)
                    seg = {"size": [h, w], "counts": cnts}
            cat = int(rng.choice(COCO_CLASSES)) if rng.uniform() < 0.8 else int(rng.choice(outside))
            a = {"id": ann_id, "image_id": img["id"], "category_id": cat, "iscrowd": int(rng.uniform() < 0.15),
                 "area": float(bw * bh), "bbox": [x, y, bw, bh], "segmentation": seg}
            ann_id += 1
            anns.append(a)
            these.append(a)
        boxes, labels, masks, kept = notebook_targets(these, h, w)
        sums = []
        for m in masks:
            idx = np.flatnonzero(m.ravel(order="C")).astype(np.int64)
            sums.append([int(idx.size), int(idx.sum()), int((idx * idx).sum())])
        expected.append({"image_id": img["id"], "kept": kept, "labels": labels,
                         "boxes": [[float(v).hex() for v in b] for b in boxes], "masks": sums})
    cats = [{"id": c, "name": f"c{c}", "supercategory": "s"} for c in COCO_CLASSES + outside]
    with open(args.out, "w") as f:
        json.dump({"pycocotools": importlib.metadata.version("pycocotools"),
                   "instances": {"images": images, "annotations": anns, "categories": cats},
                   "expected": expected}, f, separators=(",", ":"))
    print(f"{args.out}: {len(images)} images, {len(anns)} annotations")


if __name__ == "__main__":
    main()
