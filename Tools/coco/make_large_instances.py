#!/usr/bin/env python3
"""Writes a synthetic instances file the size and shape of COCO's instances_train2017.json
(118,287 images, 860,001 annotations, ~450 MB): the input of the reader benchmark
(Benchmarks/coco_reader.md, `rkan-bench coco-read FILE`).

Shape as the real file: images with COCO's keys, annotations in COCO's key order with polygons
of 2-decimal coordinates (about 22 points each, some objects in 2-3 polygons), about 1% crowd
annotations with uncompressed RLEs of a few hundred counts, 80 categories with COCO's ids.
Seeded; only the standard library.

Usage: python3 -m Tools.coco.make_large_instances OUT.json [--images 118287] [--annotations 860001]
"""
import argparse
import random

COCO_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
            35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
            64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=118287)
    ap.add_argument("--annotations", type=int, default=860001)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sizes = []
    with open(args.out, "w") as f:
        f.write('{"info": {"description": "synthetic, COCO-shaped", "year": 2017}, "licenses": [{"url": "http://x", "id": 1, "name": "x"}], "images": [')
        for i in range(args.images):
            h, w = rng.choice([(480, 640), (427, 640), (640, 480), (375, 500), (640, 427), (333, 500)])
            sizes.append((h, w))
            img_id = 100000 + i * 3
            f.write(('' if i == 0 else ', ') +
                    f'{{"license": 1, "file_name": "{img_id:012d}.jpg", "coco_url": "http://images.cocodataset.org/train2017/{img_id:012d}.jpg", '
                    f'"height": {h}, "width": {w}, "date_captured": "2013-11-14 16:28:13", '
                    f'"flickr_url": "http://farm4.staticflickr.com/3153/{img_id}_d67fa5c6e8_z.jpg", "id": {img_id}}}')
        f.write('], "annotations": [')
        for a in range(args.annotations):
            i = rng.randrange(args.images)
            h, w = sizes[i]
            img_id = 100000 + i * 3
            crowd = rng.random() < 0.01
            x, y = rng.uniform(0, w - 20), rng.uniform(0, h - 20)
            bw, bh = rng.uniform(2, w - x), rng.uniform(2, h - y)
            if crowd:
                counts, total = [], h * w
                left = total
                while left > 0 and len(counts) < 400:
                    c = min(left, rng.randrange(1, 3000))
                    counts.append(c)
                    left -= c
                if left:
                    counts.append(left)
                if len(counts) % 2 == 0:
                    counts.append(0)
                seg = '{"counts": [' + ", ".join(map(str, counts)) + f'], "size": [{h}, {w}]}}'
            else:
                polys = []
                for _ in range(rng.choice([1, 1, 1, 1, 1, 1, 2, 3])):
                    n = rng.randrange(5, 25)
                    polys.append("[" + ", ".join(f"{rng.uniform(x, x + bw):.2f}, {rng.uniform(y, y + bh):.2f}" for _ in range(n)) + "]")
                seg = "[" + ", ".join(polys) + "]"
            f.write(('' if a == 0 else ', ') +
                    f'{{"segmentation": {seg}, "area": {bw * bh * 0.6!r}, "iscrowd": {int(crowd)}, "image_id": {img_id}, '
                    f'"bbox": [{x:.2f}, {y:.2f}, {bw:.2f}, {bh:.2f}], "category_id": {rng.choice(COCO_IDS)}, "id": {a + 1}}}')
        f.write('], "categories": [' + ", ".join(f'{{"supercategory": "s", "id": {c}, "name": "c{c}"}}' for c in COCO_IDS) + "]}")


if __name__ == "__main__":
    main()
