"""Self-test of the PyTorch twin: spec grammar, the published parameter counts, state-dict keys
against torchvision, and the KAN convolution against a per-pixel loop.

    python3 -m Tools.twin.selftest      # exits 1 when a check fails
"""
import argparse
import sys

import torch
import torch.nn as nn
import torchvision

from Tools.twin.backbones import RESNET_CONFIGS, build_backbone
from Tools.twin.kan import KANConv2d
from Tools.twin.model import build_model, count_params
from Tools.twin.spec import SpecError, parse_spec


def _kan_conv_loop(x, kan, stride):
    """Plain reference: every output pixel of every channel from its zero-padded 3×3 patch."""
    n, c, h, w = x.shape
    pad = nn.functional.pad(x, (1, 1, 1, 1)).double()
    base = kan.base_linear.weight.double()[0]
    cheb = (kan.polynomial_weight[0] * kan.scaler[0].unsqueeze(-1)).double()
    ho, wo = (h - 1) // stride + 1, (w - 1) // stride + 1
    out = torch.zeros(n, c, ho, wo, dtype=torch.float64)
    for oy in range(ho):
        for ox in range(wo):
            p = pad[:, :, oy * stride:oy * stride + 3, ox * stride:ox * stride + 3].reshape(n, c, 9)
            t = torch.tanh(p)
            ts = [torch.ones_like(t), t, 2 * t * t - 1, 4 * t ** 3 - 3 * t]
            y = (p * base).sum(-1)
            for d in range(cheb.shape[1]):
                y = y + (ts[d] * cheb[:, d]).sum(-1)
            out[:, :, oy, ox] = y
    return out


def selftest():
    checks = []

    def check(name, ok, detail=""):
        checks.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    # Spec grammar.
    for text in ["resnet101+rkan", "resnet101+rkan(stages=3/4)", "resnet101+rkan(inv=4)",
                 "resnet18(stem=small,width=0.25)+rkan", "resnet50+rkan(reduce=4,degree=4,mech=se)"]:
        check(f"parse {text}", str(parse_spec(text)) == text, str(parse_spec(text)))
    check("canonical order", str(parse_spec(" resnet50( width=0.5 ,stem=small)+rkan(mech=gating,stages=4/3) "))
          == "resnet50(stem=small,width=0.5)+rkan(stages=3/4,mech=gating)")
    for bad in ["resnet17", "resnet18(width=0)", "resnet18+rkan(stages=5)", "resnet18+kan", "resnet18(foo=1)",
                "resnet18+rkan(inv=x)", "resnet18(stem=small"]:
        try:
            parse_spec(bad)
            check(f"reject {bad}", False, "accepted")
        except SpecError as e:
            check(f"reject {bad}", True, str(e)[:90])

    # Parameter counts (published: ResNet-101 42.71M, RKANet-101 44.28M, 4×L 55.30M, E 44.68M).
    # Exact values by hand: stage 4 adds 1024·512 + 54 + 2·512 + 512·2048 + 45 + 2·2048 = 1,578,083
    # (kan_conv2 has degree 2: 45 parameters, the reference's spline_order[1]); 4×L adds 1024·4096 + 54 +
    # 2·4096 + 4096·2048 + 45 + 2·2048; stage 3 adds 512·256 + 54 + 2·256 + 256·1024 + 2·1024.
    expected = [("resnet101", 42_705_060, 42.71), ("resnet101+rkan", 44_283_143, 44.28),
                ("resnet101+rkan(inv=4)", 55_300_359, 55.30), ("resnet101+rkan(stages=3/4)", 44_678_973, 44.68)]
    for text, n, m in expected:
        got = count_params(build_model(text, 100))
        check(f"params {text} (100 classes)", got == n and round(got / 1e6, 2) == m,
              f"{got:,} = {got / 1e6:.2f}M (expected {n:,}, published {m:.2f}M)")
    for name in [n for n, c in RESNET_CONFIGS.items() if c[4] is None]:
        tv = getattr(torchvision.models, name)(weights=None, num_classes=100)
        ours = build_backbone(parse_spec(name), 100, force_scaled=True)
        same = {k: v.shape for k, v in tv.state_dict().items()} == {k: v.shape for k, v in ours.state_dict().items()}
        check(f"ScaledResNet(width=1) keys/shapes == torchvision {name}", same, f"{count_params(ours):,} params")

    # The other families: published counts (thop's convention for ELA) and torchvision's keys at width 1.
    import thop
    for text, classes, want in [("resnet101d", 100, 42.72), ("regnet_y_32gf+rkan", 100, 145.27), ("seresnet50+rkan", 1000, 29.65),
                                ("ela_l_resnet50", 1000, 26.40), ("densenet169+rkan", 1000, 14.89)]:
        _, p = thop.profile(build_model(text, classes).eval(), inputs=(torch.randn(1, 3, 64, 64),), verbose=False)
        check(f"thop params {text} ({classes} classes)", round(p / 1e6, 2) == want, f"{int(p):,} (published {want:.2f}M)")
    for name in ["regnet_y_400mf", "densenet121"]:
        tv = getattr(torchvision.models, name)(weights=None, num_classes=10).state_dict()
        ours = build_model(name + "+rkan", 10).state_dict()
        attr = name.split("_")[0] if name.startswith("regnet") else "densenet"
        check(f"{name}+rkan keys == {attr}.<torchvision keys>",
              all(f"{attr}.{k}" in ours and ours[f"{attr}.{k}"].shape == v.shape for k, v in tv.items()))
    sd = build_model("resnet101d(width=0.25)+rkan", 10).state_dict()
    check("resnet101d keys (RKANet_D): stem.6, layer2.0.downsample.1/2, layer1.0.downsample.0/1 at top level",
          all(k in sd for k in ["stem.6.weight", "layer2.0.downsample.1.weight", "layer2.0.downsample.2.running_var",
                                "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var", "conv_reduce.3.weight"]))

    # RKAN keys.
    sd = build_model("resnet18(stem=small,width=0.25)+rkan(stages=3/4,mech=gating)", 10).state_dict()
    want = {"resnet.conv1.weight": (16, 3, 3, 3), "conv_reduce.2.weight": (16, 32, 1, 1),
            "kan_conv1.2.convs.0.conv.polynomial_weight": (1, 9, 4), "kan_conv2.3.convs.0.conv.polynomial_weight": (1, 9, 3),
            "kan_bn.3.running_var": (32,),
            "conv_expand.3.weight": (128, 32, 1, 1), "kan_conv2.3.convs.0.conv.base_linear.weight": (1, 9),
            "kan_expand_bn.2.weight": (64,), "gate_convs.3.bias": (128,), "resnet.fc.weight": (10, 128)}
    for k, shape in want.items():
        check(f"key {k}", k in sd and tuple(sd[k].shape) == shape, str(tuple(sd[k].shape)) if k in sd else "missing")
    check("no kan_conv2 on stage 3", not any(k.startswith("kan_conv2.2") for k in sd))
    se = build_model("resnet50+rkan(mech=se)", 10).state_dict()
    check("se_blocks.3.{1,3} shapes", tuple(se["se_blocks.3.1.weight"].shape) == (128, 2048, 1, 1)
          and tuple(se["se_blocks.3.3.weight"].shape) == (2048, 128, 1, 1))

    # KAN conv against a per-pixel loop in float64.
    torch.manual_seed(0)
    for stride in (1, 2):
        conv = KANConv2d(stride)
        with torch.no_grad():
            for p in conv.parameters():
                p.normal_(0, 0.5)
        x = torch.randn(2, 3, 5, 6)
        err = (conv(x).double() - _kan_conv_loop(x, conv.convs[0].conv, stride)).abs().max().item()
        check(f"KAN conv stride {stride} vs loop", err < 1e-5, f"max abs err {err:.2e}")

    # Every supported model runs forward and its logits have the right shape.
    for text, size in [("resnet18(stem=small,width=0.25)+rkan(stages=1/2/3/4,mech=se)", 32),
                       ("resnext50_32x4d(width=0.25)+rkan(inv=2)", 64), ("wide_resnet50_2(width=0.125)", 64)]:
        y = build_model(text, 7, in_channels=1).eval()(torch.randn(2, 1, size, size))
        check(f"forward {text}", tuple(y.shape) == (2, 7))
    print(f"{sum(checks)}/{len(checks)} checks passed")
    return all(checks)



def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    sys.exit(0 if selftest() else 1)


if __name__ == "__main__":
    main()
