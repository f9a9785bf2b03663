"""thop's parameter and MAC counts of the PyTorch twin, as JSON lines (reference for the Swift counter).

    python3 -m Tools.counts.thop_counts                                  # the built-in list below
    python3 -m Tools.counts.thop_counts --spec resnet50 --size 224 --classes 1000 [--spec ... --size ...]
    python3 -m Tools.counts.thop_counts --check                          # thop's known resnet50 numbers

Each line: {"spec", "size", "classes", "in_channels", "params" (every parameter of the model),
"params_thop", "macs"} with thop 0.1.1's `profile` on a 1×C×size×size input. thop counts only
leaf modules that it has a rule for and that run in the forward pass: convolutions, BN, Linear,
pooling...; SiLU, Sigmoid, GroupNorm (ELA), functional ops (DenseNet's final pool, ELA's means)
and the KAN convolutions' custom modules add nothing, except a KAN's `base_linear` (an nn.Linear:
9 MACs per output pixel and channel; 9 parameters for chebyshev, 10 with the bias for rbf; the rbf
`spline_linear` is an nn.Linear subclass that thop's exact-type lookup skips; b_spline counts 0), so
params − params_thop = 9·(D+1) + 9 per Chebyshev KAN convolution of degree D: 45 for kan_conv1
(degree 3), 36 for kan_conv2 (degree 2, stage 4 only). This is the convention of the published counts.
"""
import argparse
import json
import os
import sys

import thop
import torch

from Tools.twin.model import build_model, count_params

# (spec, input size, classes): the paper's tables at their resolutions, plus small scaled profiles.
DEFAULT_CASES = [
    ("resnet50", 224, 1000),
    ("resnet50+rkan", 224, 1000),
    ("resnet101", 128, 100),
    ("resnet101+rkan", 128, 100),
    ("resnet101+rkan(stages=3/4)", 128, 100),
    ("resnet101+rkan(inv=4)", 128, 100),
    ("resnext50_32x4d+rkan", 128, 100),
    ("wide_resnet50_2", 128, 100),
    ("resnet18(stem=small)", 32, 10),
    ("resnet18(stem=small,width=0.25)+rkan", 32, 10),
    ("resnet18(stem=small,width=0.25)+rkan(stages=1/2/3/4,mech=gating)", 32, 10),
    ("resnet50(stem=small,width=0.125)+rkan(mech=se)", 28, 10),
    ("resnet101d", 128, 100),
    ("seresnet50+rkan", 224, 1000),
    ("ela_l_resnet50+rkan", 224, 1000),
    ("regnet_y_32gf+rkan", 128, 100),
    ("densenet169+rkan", 224, 1000),
    ("resnet50+rkan(kan=rbf)", 224, 1000),
    ("resnet50+rkan(kan=b_spline)", 224, 1000),
]


def counts(spec, size, classes, in_channels=3):
    """One JSON-ready dict of exact and thop counts for `spec` at `size`×`size`."""
    torch.manual_seed(0)
    model = build_model(spec, classes, in_channels).eval()
    params = count_params(model)
    macs, params_thop = thop.profile(model, inputs=(torch.randn(1, in_channels, size, size),), verbose=False)
    return {"spec": spec, "size": size, "classes": classes, "in_channels": in_channels,
            "params": params, "params_thop": int(params_thop), "macs": int(macs)}


def check():
    """thop's published resnet50 values and the KAN convs' gap (45 per kan_conv1, 36 per kan_conv2); True when all hold."""
    ok = True
    r = counts("resnet50", 224, 1000)
    for key, want in [("params", 25_557_032), ("params_thop", 25_557_032)]:
        ok &= r[key] == want
        print(f"{'ok  ' if r[key] == want else 'FAIL'} resnet50@224 {key} {r[key]:,} (expected {want:,})")
    good = round(r["macs"] / 1e9, 3) == 4.134
    ok &= good
    print(f"{'ok  ' if good else 'FAIL'} resnet50@224 macs {r['macs']:,} (expected ≈4.134G)")
    # (spec, RKAN stages): every stage has a kan_conv1 of degree 3, stage 4 also a kan_conv2 of degree 2.
    for spec, stages in [("resnet101+rkan", 1), ("resnet101+rkan(stages=3/4)", 2),
                         ("resnet18(stem=small,width=0.25)+rkan(stages=1/2/3/4)", 4)]:
        r = counts(spec, 64, 100)
        gap = r["params"] - r["params_thop"]
        want = 45 * stages + 36
        ok &= gap == want
        print(f"{'ok  ' if gap == want else 'FAIL'} {spec}: params − params_thop = {gap} (expected 45·{stages} + 36)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", action="append", help="spec (repeatable); with --size, the cross product")
    ap.add_argument("--size", type=int, action="append", help="input size (repeatable)")
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--in-channels", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="check thop's known counts and exit")
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if a.check:
        sys.exit(0 if check() else 1)
    if a.spec:
        cases = [(s, n, a.classes) for s in a.spec for n in (a.size or [224])]
    else:
        cases = DEFAULT_CASES
    for spec, size, classes in cases:
        print(json.dumps(counts(spec, size, classes, a.in_channels)), flush=True)


if __name__ == "__main__":
    main()
