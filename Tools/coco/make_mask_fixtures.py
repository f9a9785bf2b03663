#!/usr/bin/env python3
"""Writes Tests/Fixtures/coco/masks.json: pycocotools' answers for thousands of polygons,
RLEs and IoU pairs, which COCOTests compares with rkan-repro's Swift masks byte for byte.

Cases (seeded, so the file is reproducible): ordinary and self-intersecting polygons, polygons
partly or wholly outside the image, zero-area ones (collinear, repeated vertices, one point, two
points), odd-length coordinate lists, coordinates on the rounding boundaries of the ×5 upsampling
(k/10) and full-precision doubles, objects made of several polygons (merged), tiny and thin
images; uncompressed RLEs from random masks; IoU of RLE masks and of boxes, with crowd flags.

Coordinates are written exactly: as integers `n` with the case's divisor `s` (the coordinate is
the double nearest n/s, which both Python's and Swift's division give), or as hex floats (`hx`).

Usage: python3 -m Tools.coco.make_mask_fixtures [--out Tests/Fixtures/coco/masks.json]
Needs numpy and pycocotools (developer tools only; `swift test` reads the committed file).
"""
import argparse
import importlib.metadata
import json

import numpy as np
from pycocotools import _mask
from pycocotools import mask as mask_utils


def rle_string(r):
    c = r["counts"]
    return c.decode("ascii") if isinstance(c, bytes) else c


def polygon_case(rng, kind, h, w):
    """Returns (divisor, polygons as integer lists) or (None, polygons as floats) for `kind`."""
    s = 100
    def pt(lo_x, hi_x, lo_y, hi_y):
        return [int(rng.integers(int(lo_x * s), int(hi_x * s) + 1)), int(rng.integers(int(lo_y * s), int(hi_y * s) + 1))]
    if kind == "convex":
        n = int(rng.integers(3, 16))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.5, max(w, h) / 2)
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        poly = []
        for a in angles:
            poly += [int(round((cx + r * np.cos(a)) * s)), int(round((cy + r * np.sin(a)) * s))]
        return s, [poly]
    if kind == "random":          # usually self-intersecting
        n = int(rng.integers(3, 12))
        poly = []
        for _ in range(n):
            poly += pt(0, w, 0, h)
        return s, [poly]
    if kind == "outside":
        n = int(rng.integers(3, 10))
        poly = []
        for _ in range(n):
            poly += pt(-0.5 * w - 3, 1.5 * w + 3, -0.5 * h - 3, 1.5 * h + 3)
        return s, [poly]
    if kind == "far":             # wholly outside
        n = int(rng.integers(3, 6))
        dx = rng.choice([-1, 1]) * (w + 5)
        poly = []
        for _ in range(n):
            p = pt(0, w, 0, h)
            poly += [p[0] + dx * s, p[1]]
        return s, [poly]
    if kind == "collinear":
        n = int(rng.integers(2, 8))
        a, b = pt(0, w, 0, h), pt(0, w, 0, h)
        poly = []
        for _ in range(n):
            t = rng.uniform(0, 1)
            poly += [int(a[0] + t * (b[0] - a[0])), int(a[1] + t * (b[1] - a[1]))]
        return s, [poly]
    if kind == "repeated":
        n = int(rng.integers(3, 8))
        base = []
        for _ in range(n):
            base.append(pt(0, w, 0, h))
        poly = []
        for p in base:
            for _ in range(int(rng.integers(1, 4))):
                poly += p
        return s, [poly]
    if kind == "one_point":
        return s, [pt(-2, w + 2, -2, h + 2)]
    if kind == "two_points":
        return s, [pt(0, w, 0, h) + pt(0, w, 0, h)]
    if kind == "same_point":
        p = pt(0, w, 0, h)
        return s, [p * int(rng.integers(2, 6))]
    if kind == "odd":
        n = int(rng.integers(3, 9))
        poly = []
        for _ in range(n):
            poly += pt(0, w, 0, h)
        return s, [poly + [int(rng.integers(0, w * s))]]
    if kind == "tenths":           # vertices on k/10: 5·v + 0.5 lands on or next to an integer
        n = int(rng.integers(3, 10))
        poly = []
        for _ in range(n):
            poly += [int(rng.integers(-10, w * 10 + 10)), int(rng.integers(-10, h * 10 + 10))]
        return 10, [poly]
    if kind == "negative_small":   # truncation toward zero near 0
        n = int(rng.integers(3, 8))
        poly = []
        for _ in range(n):
            poly += [int(rng.integers(-300, 300)), int(rng.integers(-300, 300))]
        return 1000, [poly]
    if kind == "multi":
        polys = []
        for _ in range(int(rng.integers(2, 5))):
            _, p = polygon_case(rng, str(rng.choice(["convex", "random", "outside", "collinear"])), h, w)
            polys += p
        return s, polys
    if kind == "full":
        n = int(rng.integers(3, 12))
        poly = []
        for _ in range(n):
            poly += [float(rng.uniform(-2, w + 2)), float(rng.uniform(-2, h + 2))]
        return None, [poly]
    raise ValueError(kind)


KINDS = ["convex", "random", "outside", "far", "collinear", "repeated", "one_point", "two_points",
         "same_point", "odd", "tenths", "negative_small", "multi", "full"]


def checksum(m):
    idx = np.flatnonzero(m.astype(np.uint8).ravel(order="C")).astype(np.int64)
    return [int(idx.size), int(idx.sum()), int((idx * idx).sum())]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="Tests/Fixtures/coco/masks.json")
    ap.add_argument("--seed", type=int, default=20241007)
    ap.add_argument("--polygons", type=int, default=3000)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    polygons = []
    for i in range(args.polygons):
        kind = KINDS[i % len(KINDS)]
        h = int(rng.choice([1, 2, 7, 20, 33, 64, 97, 150]))
        w = int(rng.choice([1, 3, 8, 20, 41, 64, 101, 160]))
        s, polys = polygon_case(rng, kind, h, w)
        coords = [[c / s for c in p] for p in polys] if s else polys
        rles = _mask.frPoly(coords, h, w)           # one RLE per polygon, any length
        merged = mask_utils.merge(rles)
        m = mask_utils.decode(merged)
        case = {"k": kind, "h": h, "w": w,
                "r": [rle_string(r) for r in rles], "m": rle_string(merged),
                "a": int(mask_utils.area(merged)), "b": [float(v) for v in mask_utils.toBbox(merged)],
                "d": checksum(m)}
        if s:
            case["s"] = s
            case["p"] = [[int(c) for c in p] for p in polys]
        else:
            case["hx"] = [[float(c).hex() for c in p] for p in polys]
        polygons.append(case)

    # Uncompressed RLEs from random masks, as frPyObjects reads them (`{"size", "counts": [...]}`).
    uncompressed = []
    for i in range(300):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        density = rng.choice([0.0, 0.05, 0.5, 0.95, 1.0])
        m = (rng.uniform(size=(h, w)) < density).astype(np.uint8)
        if i % 3 == 0:  # blobs: long runs
            m = np.zeros((h, w), np.uint8)
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0:y0 + int(rng.integers(1, h + 1)), x0:x0 + int(rng.integers(1, w + 1))] = 1
        enc = mask_utils.encode(np.asfortranarray(m))
        cnts = []
        flat = m.ravel(order="F")
        run, prev = 0, 0
        for v in flat:
            if v != prev:
                cnts.append(run); run = 0; prev = v
            run += 1
        cnts.append(run)
        from_list = mask_utils.frPyObjects({"size": [h, w], "counts": cnts}, h, w)
        assert rle_string(from_list) == rle_string(enc)
        uncompressed.append({"h": h, "w": w, "c": cnts, "z": rle_string(enc),
                             "a": int(mask_utils.area(enc)), "b": [float(v) for v in mask_utils.toBbox(enc)],
                             "d": checksum(m)})

    # Hand-made RLEs for the box rule's corner cases (runs crossing columns, zero-length runs,
    # empty masks) and large values for the string coder.
    special = []
    for h, w, cnts in [(4, 3, [0, 12]), (4, 3, [12]), (4, 3, [12, 0]), (4, 3, [3, 2, 7]), (4, 3, [1, 0, 2, 9]),
                       (4, 3, [5, 0, 7]), (4, 3, [4, 4, 4]), (4, 3, [0, 0, 12]), (5, 1, [2, 3]),
                       (1, 5, [1, 1, 1, 1, 1]), (3000, 3000, [4_000_000, 4_999_999, 1]),
                       (20000, 20000, [123_456_789, 276_543_211])]:
        r = mask_utils.frPyObjects({"size": [h, w], "counts": cnts}, h, w)
        special.append({"h": h, "w": w, "c": cnts, "z": rle_string(r), "a": int(mask_utils.area(r)),
                        "b": [float(v) for v in mask_utils.toBbox(r)]})

    # IoU: RLE masks and boxes, several detections × ground truths, some crowd.
    ious = []
    for i in range(400):
        h, w = int(rng.integers(5, 60)), int(rng.integers(5, 60))
        nd, ng = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        def rand_rle():
            _, p = polygon_case(rng, str(rng.choice(["convex", "random", "outside"])), h, w)
            return mask_utils.merge(_mask.frPoly([[c / 100 for c in q] for q in p], h, w))
        dts = [rand_rle() for _ in range(nd)]
        gts = [rand_rle() for _ in range(ng)]
        if i % 7 == 0:
            gts[0] = dts[0]  # identical masks
        crowd = [int(rng.uniform() < 0.3) for _ in range(ng)]
        def rand_box():
            if rng.uniform() < 0.1:
                return [float(rng.integers(0, w)), float(rng.integers(0, h)), 0.0, float(rng.integers(0, h))]
            return [round(float(rng.uniform(-5, w)), 2), round(float(rng.uniform(-5, h)), 2),
                    round(float(rng.uniform(0, w)), 2), round(float(rng.uniform(0, h)), 2)]
        dboxes = [rand_box() for _ in range(nd)]
        gboxes = [rand_box() for _ in range(ng)]
        if i % 5 == 0:
            gboxes[0] = list(dboxes[0])
        mi = np.asarray(mask_utils.iou(dts, gts, crowd))
        bi = np.asarray(mask_utils.iou(dboxes, gboxes, crowd))
        ious.append({"h": h, "w": w, "dt": [rle_string(r) for r in dts], "gt": [rle_string(r) for r in gts],
                     "crowd": crowd, "mask": [float(v).hex() for v in mi.ravel()],
                     "dbox": [[float(v).hex() for v in b] for b in dboxes],
                     "gbox": [[float(v).hex() for v in b] for b in gboxes],
                     "box": [float(v).hex() for v in bi.ravel()]})

    out = {"pycocotools": importlib.metadata.version("pycocotools"), "seed": args.seed,
           "polygons": polygons, "uncompressed": uncompressed, "special": special, "iou": ious}
    with open(args.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"{args.out}: {len(polygons)} polygon cases, {len(uncompressed)} RLEs, {len(special)} special, {len(ious)} IoU cases")


if __name__ == "__main__":
    main()
