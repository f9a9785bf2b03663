#!/usr/bin/env python3
"""Writes Tests/Fixtures/coco/eval.json: pycocotools' COCOeval answers (the twelve `stats`
and per-category AP/AR@100) for hundreds of generated ground-truth/results pairs, bbox and segm,
which COCOTests compares with rkan-repro's evaluator to 1e-6.

Each case holds the ground truth as an instances JSON object and the results as a results JSON
array, exactly as the Swift readers take them. Cases cover: images without annotations, images
without detections, no detections at all, categories without ground truth and detections of
categories the ground truth lacks, crowd regions (polygon and uncompressed RLE), ties in score,
more than 100 detections on an image, objects in every area range, results with box and mask
(loadRes' box path: detection area = box area), results with a mask only, and box-only results
evaluated as segm (the box's polygon). pycocotools cannot load an empty results list; the
"no detections" cases build its results object directly (as torchmetrics does).

Usage: python3 -m Tools.coco.make_eval_fixtures [--cases 300]
"""
import argparse
import contextlib
import copy
import importlib.metadata
import io
import json

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def r2(v):
    return round(float(v), 2)


def polygon(rng, cx, cy, rx, ry, n):
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    out = []
    for t in a:
        out += [r2(cx + rx * np.cos(t) * rng.uniform(0.7, 1.0)), r2(cy + ry * np.sin(t) * rng.uniform(0.7, 1.0))]
    return out


def rle_json(r):
    return {"size": [int(r["size"][0]), int(r["size"][1])], "counts": r["counts"].decode("ascii")}


def make_case(rng, idx):
    flavour = idx % 10
    n_images = int(rng.integers(1, 7))
    cat_ids = sorted(int(c) for c in rng.choice(np.arange(1, 12), size=int(rng.integers(1, 5)), replace=False))
    images, anns = [], []
    ann_id = int(rng.integers(1, 1000))
    for i in range(n_images):
        h, w = int(rng.integers(30, 320)), int(rng.integers(30, 320))
        img_id = int(rng.integers(1, 10**6)) * 10 + i
        images.append({"id": img_id, "file_name": f"{img_id:012d}.jpg", "height": h, "width": w})
        n_gt = 0 if rng.uniform() < 0.15 else int(rng.integers(1, 8))
        if flavour == 3:
            n_gt = 0  # no ground truth at all
        for _ in range(n_gt):
            cat = int(rng.choice(cat_ids[:-1] if len(cat_ids) > 1 and flavour == 4 else cat_ids))
            scale = rng.choice([4, 12, 40, 120])
            rx, ry = rng.uniform(1, scale), rng.uniform(1, scale)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            polys = [polygon(rng, cx, cy, rx, ry, int(rng.integers(3, 12)))]
            if rng.uniform() < 0.2:
                polys.append(polygon(rng, rng.uniform(0, w), rng.uniform(0, h), rx / 2 + 1, ry / 2 + 1, 5))
            rle = mask_utils.merge(mask_utils.frPyObjects(polys, h, w))
            area = float(mask_utils.area(rle))
            box = [float(v) for v in mask_utils.toBbox(rle)]
            if area == 0:
                continue
            crowd = int(rng.uniform() < 0.12)
            seg = polys
            if crowd and rng.uniform() < 0.6:
                m = mask_utils.decode(rle)
                flat = m.ravel(order="F")
                cnts, run, prev = [], 0, 0
                for v in flat:
                    if v != prev:
                        cnts.append(run); run = 0; prev = v
                    run += 1
                cnts.append(run)
                seg = {"size": [h, w], "counts": cnts}
            if rng.uniform() < 0.3:
                area = r2(area + rng.uniform(-0.4, 0.4) * area)  # areas in files are not always the mask's
            anns.append({"id": ann_id, "image_id": img_id, "category_id": cat, "iscrowd": crowd,
                         "area": area, "bbox": [r2(v) for v in box], "segmentation": seg, "_rle": rle, "_hw": (h, w)})
            ann_id += int(rng.integers(1, 5))
    categories = [{"id": c, "name": f"class{c}", "supercategory": "shape"} for c in cat_ids]
    gt = {"images": images, "annotations": [{k: v for k, v in a.items() if not k.startswith("_")} for a in anns],
          "categories": categories}

    # Detections: jittered copies of ground truths, false positives, other categories.
    results = []
    mode = "box+mask" if flavour < 6 else ("mask" if flavour < 8 else "box")
    img_by_id = {im["id"]: im for im in images}
    def add(img_id, cat, box, rle, score):
        d = {"image_id": img_id, "category_id": cat, "score": score}
        if mode in ("box+mask", "box"):
            d["bbox"] = [r2(v) for v in box]
        if mode in ("box+mask", "mask"):
            d["segmentation"] = rle_json(rle)
        results.append(d)
    def score():
        s = float(rng.uniform())
        return round(s, 1) if rng.uniform() < 0.4 else s   # ties
    if flavour != 2:   # flavour 2: no detections at all
        for a in anns:
            if rng.uniform() < 0.25:
                continue
            h, w = a["_hw"]
            for _ in range(int(rng.integers(1, 3))):
                jit = rng.uniform(-0.25, 0.25, 4) * np.array([a["bbox"][2], a["bbox"][3], a["bbox"][2], a["bbox"][3]])
                box = [a["bbox"][0] + jit[0], a["bbox"][1] + jit[1], max(0.5, a["bbox"][2] + jit[2]), max(0.5, a["bbox"][3] + jit[3])]
                if isinstance(a["segmentation"], list):
                    dx, dy = jit[0], jit[1]
                    polys = [[r2(v + (dx if k % 2 == 0 else dy)) for k, v in enumerate(p)] for p in a["segmentation"]]
                    rle = mask_utils.merge(mask_utils.frPyObjects(polys, h, w))
                else:
                    rle = mask_utils.frPyObjects([[box[0], box[1], box[0], box[1] + box[3], box[0] + box[2], box[1] + box[3], box[0] + box[2], box[1]]], h, w)[0]
                add(a["image_id"], a["category_id"], box, rle, score())
        for im in images:
            n_fp = int(rng.integers(0, 4))
            if flavour == 5 and im is images[0]:
                n_fp = 110   # more than maxDets on one image
            for _ in range(n_fp):
                h, w = im["height"], im["width"]
                cat = int(rng.choice(cat_ids + [99])) if rng.uniform() < 0.9 else 99
                rx, ry = rng.uniform(1, 60), rng.uniform(1, 60)
                cx, cy = rng.uniform(0, w), rng.uniform(0, h)
                p = polygon(rng, cx, cy, rx, ry, 6)
                rle = mask_utils.merge(mask_utils.frPyObjects([p], h, w))
                box = [float(v) for v in mask_utils.toBbox(rle)]
                if box[2] <= 0 or box[3] <= 0:
                    continue
                add(im["id"], cat, box, rle, score())
    order = rng.permutation(len(results))
    results = [results[i] for i in order]

    out = {"name": f"case{idx}:{['plain','plain','no-detections','no-gt','missing-category','over-100','plain','mask-only','box-only','box-only'][flavour]}",
           "gt": gt, "dt": results}
    for iou_type in ("bbox", "segm"):
        out[iou_type] = evaluate(gt, results, iou_type)
    return out


def evaluate(gt, results, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        if results:
            coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        else:
            coco_dt = COCO()
            coco_dt.dataset = {"images": copy.deepcopy(gt["images"]), "categories": copy.deepcopy(gt["categories"]), "annotations": []}
            coco_dt.createIndex()
        E = COCOeval(coco_gt, coco_dt, iou_type)
        E.evaluate()
        E.accumulate()
        E.summarize()
    prec, rec = E.eval["precision"], E.eval["recall"]
    ap, ar = [], []
    for k in range(prec.shape[2]):
        p = prec[:, :, k, 0, 2]
        ap.append(float(np.mean(p[p > -1])) if (p > -1).any() else -1.0)
        r = rec[:, k, 0, 2]
        ar.append(float(np.mean(r[r > -1])) if (r > -1).any() else -1.0)
    return {"stats": [float(v).hex() for v in E.stats], "ap": [v.hex() for v in ap], "ar": [v.hex() for v in ar]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="Tests/Fixtures/coco/eval.json")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--cases", type=int, default=300)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = [make_case(rng, i) for i in range(args.cases)]
    with open(args.out, "w") as f:
        json.dump({"pycocotools": importlib.metadata.version("pycocotools"), "seed": args.seed, "cases": cases}, f,
                  separators=(",", ":"))
    print(f"{args.out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
