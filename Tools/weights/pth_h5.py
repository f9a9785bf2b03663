"""PyTorch state dicts (.pth) <-> rkan-repro's HDF5 state-dict files (developer tool: needs torch, h5py).

    python3 -m Tools.weights.pth_h5 to-h5 IN.pth OUT.h5 [--strip-prefix module.] [--only-detector]
    python3 -m Tools.weights.pth_h5 to-pth IN.h5 OUT.pth [--like TEMPLATE.pth]

The HDF5 layout is the one `rkan-repro forward --weights` and `RunFile.readWeights` read (an init
file's, without its header): `/weights/<state-dict key>`, float32 tensors in PyTorch's shapes and
element order, int64 for integer buffers (`num_batches_tracked`, shape ()).

to-h5 reads a state dict saved with `torch.save(model.state_dict(), …)` (torchvision's ImageNet
ResNet-50, an RKAN classification model, RKAN_RCNN), or a checkpoint dict holding one under
`state_dict` / `model_state_dict` / `model`; `--strip-prefix` removes a prefix such as
DataParallel's `module.`. Float tensors of other precisions are written as float32 (listed);
anything that is not a tensor is refused. `--only-detector` keeps one name per tensor of an
RKAN_RCNN state dict, in rkan-repro's naming (`model.` dropped; `backbone_with_fpn.*`, `stageN_kan.*`
and `rkan_components.resnet.*` left out), the file rkan-repro itself writes for a detector.

to-pth writes the HDF5 state dict back as a .pth of torch tensors. With `--like` (a .pth of the
target class's own `state_dict()`, e.g. a freshly built RKAN_RCNN's), the output has exactly the
template's keys in its order: a key the HDF5 file lacks is taken from another of its names there
(RKAN_RCNN's aliases: `model.K`, `backbone_with_fpn.*`, `stageN_kan.*`, `rkan_components.resnet.*`
for the body of the newer class), and failing that from the template itself (modules the class builds
but never calls, listed); keys of the HDF5 file the template lacks are refused. The result loads with
`load_state_dict(strict=True)`.
"""
import argparse
import sys

import h5py
import numpy as np
import torch


class ConversionError(Exception):
    """Input the converter cannot turn into a state dict, with what to do."""


def load_state_dict(path, strip_prefix=None):
    """{key: tensor} from a .pth file (a state dict or a checkpoint dict holding one)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:   # torch raises pickle, zip and runtime errors for files that are not a .pth
        raise ConversionError(f"{path}: not a PyTorch file that loads with weights_only=True ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:200]}); give a state dict saved with torch.save") from None
    if isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for k in ["state_dict", "model_state_dict", "model"]:
            if isinstance(obj.get(k), dict):
                obj = obj[k]
                break
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: holds a {type(obj).__name__}, not a state dict; save model.state_dict()")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ConversionError(f"{path}: entries that are not tensors: {bad[:5]}; save model.state_dict()")
    if strip_prefix:
        obj = {k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v for k, v in obj.items()}
    return obj


def detector_key(key):
    """rkan-repro's name of an RKAN_RCNN state-dict key, or None for an alias or an unused module."""
    if key.startswith("model."):
        return key[len("model."):]
    if key.startswith("rkan_components.") and not key.startswith("rkan_components.resnet."):
        return key
    return None


def reference_names(key):
    """RKAN_RCNN's names of the tensor rkan-repro calls `key` (MaskRCNN.referenceAliases, plus the
    body under `rkan_components.resnet.` where the newer RKAN_RCNN builds it)."""
    if key.startswith("rkan_components."):
        return [key]
    names = ["model." + key]
    if key.startswith("backbone."):
        names.append("backbone_with_fpn." + key[len("backbone."):])
    if key.startswith("backbone.body."):
        rest = key[len("backbone.body."):]
        names.append("rkan_components.resnet." + rest)
        for n in range(1, 5):
            if rest.startswith(f"layer{n}.base_layer."):
                names.append(f"stage{n}_kan." + rest[len(f"layer{n}."):])
    return names


def to_h5(src, dst, strip_prefix=None, only_detector=False):
    """Writes the state dict of `src` to `dst`; returns (written, converted dtypes, dropped)."""
    sd = load_state_dict(src, strip_prefix)
    converted, dropped, out = [], [], {}
    for k, v in sd.items():
        if only_detector:
            name = detector_key(k)
            if name is None:
                dropped.append(k)
                continue
        else:
            name = k
        if "/" in name:
            raise ConversionError(f"{src}: key {name!r} has a '/', which HDF5 would read as a group")
        if v.is_floating_point() and v.dtype != torch.float32:
            converted.append(f"{k} ({v.dtype})")
        elif not v.is_floating_point() and v.dtype not in (torch.int64, torch.int32, torch.uint8, torch.bool):
            raise ConversionError(f"{src}: {k} is {v.dtype}; only float and integer tensors are state-dict entries here")
        out[name] = v
    with h5py.File(dst, "w") as f:
        g = f.create_group("weights")
        for k, v in out.items():
            a = v.detach().cpu().numpy()
            g.create_dataset(k, data=a.astype(np.float32 if a.dtype.kind == "f" else np.int64))
    return len(out), converted, dropped


def read_h5(path):
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ConversionError(f"{path}: not an HDF5 file ({e})") from None
    with f:
        if "weights" not in f:
            raise ConversionError(f"{path}: no /weights group; give an rkan-repro init, run or state-dict file")
        return {k: torch.from_numpy(np.asarray(d[()])) for k, d in f["weights"].items()}


def to_pth(src, dst, like=None):
    """Writes the HDF5 state dict of `src` to `dst` (with `like`: the template's keys); returns the keys taken from the template."""
    w = read_h5(src)
    if like is None:
        torch.save(w, dst)
        return []
    template = load_state_dict(like)
    by_reference = {}
    for k, v in w.items():
        for name in [k] + reference_names(k):
            by_reference.setdefault(name, v)
    extra = sorted(k for k in w if not any(n in template for n in [k] + reference_names(k)))
    if extra:
        raise ConversionError(f"{src}: keys with no place in {like}: {extra[:5]} ({len(extra)}); is the template the same model?")
    out, filled = {}, []
    for k, t in template.items():
        v = by_reference.get(k)
        if v is None:
            v, _ = t, filled.append(k)
        elif tuple(v.shape) != tuple(t.shape):
            raise ConversionError(f"{src}: {k} is {tuple(v.shape)}, {like} has {tuple(t.shape)}")
        out[k] = v.to(t.dtype).clone()
    torch.save(out, dst)
    return filled


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-h5", help=".pth -> HDF5")
    a.add_argument("src"), a.add_argument("dst")
    a.add_argument("--strip-prefix", help="remove this prefix from every key (e.g. module.)")
    a.add_argument("--only-detector", action="store_true", help="RKAN_RCNN state dict: keep rkan-repro's names only")
    b = sub.add_parser("to-pth", help="HDF5 -> .pth")
    b.add_argument("src"), b.add_argument("dst")
    b.add_argument("--like", help="a .pth of the target class's state_dict(): its keys, aliases and unused modules")
    args = ap.parse_args()
    try:
        if args.cmd == "to-h5":
            n, converted, dropped = to_h5(args.src, args.dst, args.strip_prefix, args.only_detector)
            print(f"{args.dst}: {n} entries" + (f"; {len(dropped)} aliases and unused keys left out" if dropped else ""))
            if converted:
                print(f"written as float32: {', '.join(converted[:10])}" + (" …" if len(converted) > 10 else ""))
        else:
            filled = to_pth(args.src, args.dst, args.like)
            print(f"{args.dst}: written" + (f"; {len(filled)} keys from the template (modules never called): "
                                             + ", ".join(filled[:8]) + (" …" if len(filled) > 8 else "") if filled else ""))
    except (ConversionError, OSError, RuntimeError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
