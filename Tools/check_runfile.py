#!/usr/bin/env python3
"""Opens an rkan-repro HDF5 file with h5py and prints what it holds, as JSON.

Usage: python3 Tools/check_runfile.py FILE.h5

Prints one JSON object:
  attrs:     root attributes, name -> {"type": Python type name as h5py returns it, "value"}
  objects:   every dataset, path -> {"shape", "dtype", "attrs"}
  groups:    every group path
  weights_sha256: the digest of /weights recomputed here with hashlib (the rule of
             RunStore's WeightsDigest: keys sorted by UTF-8 bytes; key bytes, shape as <i8,
             values as <f4 or <i8), or null when the file has no /weights.
The Swift tests compare this output with what they wrote (an independent reader).
"""
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


def main(path):
    out = {"attrs": {}, "objects": {}, "groups": [], "weights_sha256": None}
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
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
