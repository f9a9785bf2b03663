#!/usr/bin/env python3
"""Opens an rkan-repro HDF5 file with h5py and prints what it holds, as JSON.

Usage: python3 -m Tools.runfile.check_runfile FILE.h5   (or python3 Tools/runfile/check_runfile.py FILE.h5:
it imports nothing from the package, so the tests run it by path)

Prints one JSON object:
  attrs:     root attributes, name -> {"type": Python type name as h5py returns it, "value"}
  objects:   every dataset, path -> {"shape", "dtype", "attrs"}
  groups:    every group path
  weights_sha256: the digest of /weights recomputed here with hashlib (the rule of
             RunStore's WeightsDigest: keys sorted by UTF-8 bytes; key bytes, shape as <i8,
             values as <f4 or <i8), or null when the file has no /weights.
  content_sha256: every part digest of RunStore's ContentDigest recomputed here
             (attributes, weights, optimizer, state, metrics, bench), or null when the file
             is not a run file; compare with the stored weights_sha256 / sha256_<part>.
  seal:      the checksum trailer (RunStore's FileSeal) checked here independently: the
             stored values' byte ranges taken from h5py (get_offset/get_storage_size of every
             dataset, grouped by top-level group), SHA-256 of each group's bytes and of all
             other HDF5 bytes, compared with the trailer: {"sealed", "ranges_match", "intact"};
             {"sealed": false} when the file has no trailer.
The Swift tests compare this output with what they wrote (an independent reader).
Run-file strings are fixed-length (schema rkan-repro/2), so h5py returns them as bytes.
"""
import argparse
import hashlib
import json
import sys

import h5py
import numpy as np


def plain(value):
    """Converts an h5py attribute value into JSON-able Python, keeping its type name."""
    kind = type(value).__name__
    if isinstance(value, bytes):
        return {"type": kind, "value": value.decode("utf-8", "replace")}
    if isinstance(value, np.ndarray):
        items = [v.decode() if isinstance(v, bytes) else v for v in value.tolist()]
        return {"type": "ndarray", "dtype": str(value.dtype), "value": items}
    if isinstance(value, np.generic):
        return {"type": kind, "value": value.item()}
    return {"type": kind, "value": value}


def weights_digest(group):
    h = hashlib.sha256()
    for key in sorted(group.keys(), key=lambda k: k.encode("utf-8")):
        data = group[key][()]
        array = np.asarray(data)
        h.update(key.encode("utf-8"))
        h.update(np.array(array.shape, dtype="<i8").tobytes())
        kind = "<i8" if array.dtype.kind in "iu" else "<f4"
        h.update(array.astype(kind).tobytes())
    return h.hexdigest()


DIGEST_ATTRS = {"weights_sha256", "sha256_attributes", "sha256_weights", "sha256_optimizer",
                "sha256_state", "sha256_metrics", "sha256_bench"}


class Canonical:
    """The canonical encoding of ContentDigest: <i8 counts and integers, UTF-8 strings
    prefixed by their byte count, reals as their IEEE-754 bit patterns."""

    def __init__(self):
        self.h = hashlib.sha256()

    def int(self, v):
        self.h.update(np.array([v], dtype="<i8").tobytes())

    def uint(self, v):
        self.h.update(np.array([v], dtype="<u8").tobytes())

    def string(self, s):
        b = s.encode("utf-8")
        self.int(len(b))
        self.h.update(b)

    def doubles(self, values):
        a = np.asarray(values, dtype="<f8").reshape(-1)
        self.int(len(a))
        self.h.update(a.tobytes())

    def value(self, v):
        if isinstance(v, (bytes, str)):
            self.int(1)
            self.string(v.decode("utf-8") if isinstance(v, bytes) else v)
        elif isinstance(v, np.ndarray):
            if v.dtype.kind in "SUO":
                self.int(4)
                self.int(len(v))
                for x in v.tolist():
                    self.string(x.decode("utf-8") if isinstance(x, bytes) else x)
            elif v.dtype.kind in "iu":
                self.int(5)
                self.int(len(v))
                for x in v.tolist():
                    self.int(x)
            else:
                self.int(6)
                self.doubles(v)
        elif isinstance(v, (int, np.integer)):
            self.int(2)
            self.int(int(v))
        else:
            self.int(3)
            self.h.update(np.array([v], dtype="<f8").tobytes())

    def hex(self):
        return self.h.hexdigest()


def by_bytes(names):
    return sorted(names, key=lambda k: k.encode("utf-8"))


def content_digests(f):
    d = {"weights": weights_digest(f["weights"]), "optimizer": weights_digest(f["optimizer"])}
    c = Canonical()
    names = by_bytes([n for n in f.attrs.keys() if n not in DIGEST_ATTRS])
    c.int(len(names))
    for n in names:
        c.string(n)
        c.value(f.attrs[n])
    d["attributes"] = c.hex()
    c, s = Canonical(), f["state"]
    c.int(int(s["epoch"][()]))
    c.int(int(s["step"][()]))
    for group, write in (("values", c.int), ("rng", c.uint)):
        keys = by_bytes(s[group].keys())
        c.int(len(keys))
        for k in keys:
            c.string(k)
            write(int(s[group][k][()]))
    extra = s.attrs.get("extra", b"{}")
    c.string(extra.decode("utf-8") if isinstance(extra, bytes) else extra)
    d["state"] = c.hex()
    c = Canonical()
    keys = by_bytes(f["metrics"].keys())
    c.int(len(keys))
    for k in keys:
        c.string(k)
        c.doubles(f["metrics"][k][()])
    d["metrics"] = c.hex()
    c = Canonical()
    keys = by_bytes(f["bench"].keys())
    c.int(len(keys))
    for k in keys:
        ds = f["bench"][k]
        c.string(k)
        c.int(int(ds.attrs["batch"]))
        c.int(int(ds.attrs["size"]))
        c.doubles(ds[()])
    d["bench"] = c.hex()
    return d


def seal(path, f):
    """Verifies FileSeal's trailer with ranges found by h5py, not by the trailer."""
    raw = open(path, "rb").read()
    if len(raw) < 16 or raw[-8:] != b"RKANSEAL":
        return {"sealed": False}
    length = int.from_bytes(raw[-16:-8], "little")
    trailer = json.loads(raw[len(raw) - 16 - length:len(raw) - 16])
    size = len(raw) - 16 - length
    parts = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.id.get_storage_size() > 0:
            parts.setdefault(name.split("/")[0], []).append([obj.id.get_offset(), obj.id.get_storage_size()])

    f.visititems(visit)
    for ranges in parts.values():
        ranges.sort()
    covered = bytearray(size)
    digests = {}
    for part, ranges in parts.items():
        h = hashlib.sha256()
        for off, n in ranges:
            h.update(raw[off:off + n])
            covered[off:off + n] = b"\x01" * n
        digests[part] = h.hexdigest()
    rest = hashlib.sha256(bytes(b for b, c in zip(raw[:size], covered) if not c)).hexdigest()
    stored = {r["part"]: r for r in trailer["regions"]}
    return {
        "sealed": True,
        "ranges_match": trailer["size"] == size and {p: r["ranges"] for p, r in stored.items()} == parts,
        "intact": rest == trailer["structure"] and all(stored.get(p, {}).get("sha256") == d for p, d in digests.items())
                  and set(stored) == set(digests),
    }


def main(path):
    out = {"attrs": {}, "objects": {}, "groups": [], "weights_sha256": None, "content_sha256": None, "seal": None}
    with h5py.File(path, "r") as f:
        for name, value in f.attrs.items():
            out["attrs"][name] = plain(value)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out["objects"]["/" + name] = {
                    "shape": list(obj.shape),
                    "dtype": str(obj.dtype),
                    "attrs": {k: plain(v) for k, v in obj.attrs.items()},
                }
            else:
                out["groups"].append("/" + name)

        f.visititems(visit)
        if "weights" in f:
            out["weights_sha256"] = weights_digest(f["weights"])
        if "sha256_attributes" in f.attrs:
            out["content_sha256"] = content_digests(f)
        out["seal"] = seal(path, f)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="an HDF5 file written by rkan-repro (run file, init weights or forward output)")
    main(ap.parse_args().file)
