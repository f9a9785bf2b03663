"""PyTorch twin of rkan-repro's model zoo (developer tool: needs torch/torchvision, never run by CI).

`parse_spec(text)` reads the model-spec grammar of DESIGN.md, `build_model(spec, classes)` returns
an nn.Module whose `state_dict()` keys and shapes are exactly those of the Swift zoo's HDF5
weights: torchvision's keys for a baseline, `resnet.<key>` plus the reference RKANet's RKAN
modules (`conv_reduce.i`, `kan_conv1.i.convs.0.conv.*`, `kan_bn.i`, `conv_expand.i`,
`kan_conv2.i.*` on the last RKAN stage, `kan_expand_bn.i`, `gate_convs.i` / `se_blocks.i.{1,3}`)
for an RKAN model. Only the RKAN stages in use are registered, so `parameters()` counts exactly
the parameters of the forward pass (the published counts' convention).

    python3 Tools/rkan_torch.py --selftest      # parameter counts, keys, KAN conv vs a loop
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_spec import BACKBONES, ModelSpec, RKANOptions, SpecError, parse_spec  # noqa: E402,F401

# name: (block, blocks per stage, groups, width_per_group), as torchvision builds them.
RESNET_CONFIGS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2], 1, 64),
    "resnet34": (BasicBlock, [3, 4, 6, 3], 1, 64),
    "resnet50": (Bottleneck, [3, 4, 6, 3], 1, 64),
    "resnet101": (Bottleneck, [3, 4, 23, 3], 1, 64),
    "resnet152": (Bottleneck, [3, 8, 36, 3], 1, 64),
    "wide_resnet50_2": (Bottleneck, [3, 4, 6, 3], 1, 128),
    "wide_resnet101_2": (Bottleneck, [3, 4, 23, 3], 1, 128),
    "resnext50_32x4d": (Bottleneck, [3, 4, 6, 3], 32, 4),
    "resnext101_32x8d": (Bottleneck, [3, 4, 23, 3], 32, 8),
}


# --------------------------------------------------------------------------------------------
# Chebyshev KAN convolution (after the reference KAN_Conv: one scalar KAN on every 3×3 patch)
# --------------------------------------------------------------------------------------------

class ChebyshevKAN(nn.Module):
    """Scalar-output Chebyshev KAN on 9 inputs: y = p·base + Σ_i Σ_n cheb[0,i,n]·scaler[0,i]·T_n(tanh p_i)."""

    def __init__(self, inputs=9, degree=3):
        super().__init__()
        self.degree = degree
        self.base_linear = nn.Linear(inputs, 1, bias=False)                        # (1, 9)
        self.chebyshev_weight = nn.Parameter(torch.randn(1, inputs, degree + 1) / (inputs * (degree + 1)))
        self.chebyshev_scaler = nn.Parameter(torch.ones(1, inputs))               # (1, 9)

    def forward(self, p):                      # p: (R, 9) -> (R, 1)
        t = torch.tanh(p)
        basis = [torch.ones_like(t), t]
        for _ in range(2, self.degree + 1):
            basis.append(2 * t * basis[-1] - basis[-2])
        basis = torch.stack(basis[: self.degree + 1], dim=-1)                        # (R, 9, D+1)
        w = self.chebyshev_weight * self.chebyshev_scaler.unsqueeze(-1)             # (1, 9, D+1)
        return self.base_linear(p) + basis.flatten(1) @ w.flatten(1).t()


class KANConvolution(nn.Module):
    """Holds `.conv` (the KAN), so keys read `convs.0.conv.*` as in the reference."""

    def __init__(self, degree):
        super().__init__()
        self.conv = ChebyshevKAN(9, degree)


class KANConv2d(nn.Module):
    """Per-channel 3×3 KAN convolution, padding 1: (N, C, H, W) -> (N, C, Ho, Wo), one KAN shared by all channels."""

    def __init__(self, stride, degree=3):
        super().__init__()
        self.stride = stride
        self.convs = nn.ModuleList([KANConvolution(degree)])

    def forward(self, x):
        n, c, h, w = x.shape
        ho, wo = (h - 1) // self.stride + 1, (w - 1) // self.stride + 1
        cols = nn.functional.unfold(x, 3, padding=1, stride=self.stride)           # (N, C·9, L)
        rows = cols.view(n, c, 9, ho * wo).transpose(2, 3).reshape(-1, 9)           # (N·C·L, 9)
        return self.convs[0].conv(rows).view(n, c, ho, wo)


# --------------------------------------------------------------------------------------------
# Backbones
# --------------------------------------------------------------------------------------------

def scaled(c, width):
    """max(1, round(c·width)), rounding halves away from zero like Swift's `.rounded()`."""
    return max(1, int(math.floor(c * width + 0.5)))


class ScaledResNet(nn.Module):
    """torchvision's ResNet with every stage width (and the stem) multiplied by `width`; same keys."""

    def __init__(self, block, layers, classes, width, groups=1, width_per_group=64, in_channels=3):
        super().__init__()
        self.inplanes = scaled(64, width)
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            planes, stride = scaled(planes, width), 1 if i == 0 else 2
            if block is Bottleneck and int(planes * width_per_group / 64) * groups == 0:
                raise SpecError(f"width={width}", f"stage {i + 1} leaves 0 channels for {groups} groups")
            down = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                down = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes * block.expansion))
            blocks = [block(self.inplanes, planes, stride, down, groups, width_per_group)]
            self.inplanes = planes * block.expansion
            blocks += [block(self.inplanes, planes, 1, None, groups, width_per_group) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(resnet_features(self, x)), 1))


def build_backbone(spec, classes, in_channels=3, force_scaled=False):
    """The plain ResNet-family backbone of `spec` (torchvision's own model when width == 1)."""
    if spec.backbone not in RESNET_CONFIGS:
        raise SpecError(str(spec), f"backbone '{spec.backbone}' has no PyTorch twin yet; have: {', '.join(RESNET_CONFIGS)}")
    block, layers, groups, wpg = RESNET_CONFIGS[spec.backbone]
    if spec.width == 1 and not force_scaled:
        net = getattr(torchvision.models, spec.backbone)(weights=None, num_classes=classes)
    else:
        net = ScaledResNet(block, layers, classes, spec.width, groups, wpg, in_channels)
    stem = net.conv1.out_channels
    if spec.stem == "small":
        net.conv1 = nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != net.conv1.in_channels:
        net.conv1 = nn.Conv2d(in_channels, stem, 7, 2, 3, bias=False)
    return net


def stage_channels(net):
    """[(C_in, C_out)] of the four stages of a ResNet-family backbone."""
    c_in, out = net.conv1.out_channels, []
    for i in range(4):
        last = getattr(net, f"layer{i + 1}")[-1]
        c_out = (last.conv3 if hasattr(last, "conv3") else last.conv2).out_channels
        out.append((c_in, c_out))
        c_in = c_out
    return out


def resnet_features(net, x):
    """Stem and the four stages of a torchvision-style ResNet (no pooling, no classifier)."""
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    return net.layer4(net.layer3(net.layer2(net.layer1(x))))

# --------------------------------------------------------------------------------------------
# RKAN model
# --------------------------------------------------------------------------------------------

class RKANResNet(nn.Module):
    """A backbone under `resnet` with RKAN blocks on the chosen stages (DESIGN.md "Model specs").

    Per RKAN stage i (0-based): r = SiLU(conv_reduce.i(x)); r = kan_bn.i(kan_conv1.i(r));
    r = SiLU(conv_expand.i(r)); r = kan_conv2.i(r) (last RKAN stage only); r = kan_expand_bn.i(r);
    then out = stage(x) + r (addition), out·g + r·(1−g) with g = σ(gate_convs.i(r)) (gating),
    or out·s + r with s = se_blocks.i(r) (se).
    """

    def __init__(self, backbone, options):
        super().__init__()
        o = options
        if o.kan != "chebyshev":
            raise SpecError(f"kan={o.kan}", "only kan=chebyshev has a PyTorch twin yet")
        self.resnet = backbone
        self.mech = o.mech
        self.stages = [s - 1 for s in o.stages]
        last = max(self.stages)
        self.conv_reduce, self.kan_conv1, self.kan_bn = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        self.conv_expand, self.kan_conv2, self.kan_expand_bn = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        self.gate_convs, self.se_blocks = nn.ModuleDict(), nn.ModuleDict()
        channels = stage_channels(backbone)
        for i in self.stages:
            c_in, c_out = channels[i]
            if o.inv is None and c_in % o.reduce != 0:
                raise SpecError(f"reduce={o.reduce}", f"does not divide the {c_in} input channels of stage {i + 1}")
            m = c_in * o.inv if o.inv is not None else c_in // o.reduce
            k = str(i)
            self.conv_reduce[k] = nn.Conv2d(c_in, m, 1, bias=False)
            self.kan_conv1[k] = KANConv2d(1 if i == 0 else 2, o.degree)
            self.kan_bn[k] = nn.BatchNorm2d(m)
            self.conv_expand[k] = nn.Conv2d(m, c_out, 1, bias=False)
            if i == last:
                self.kan_conv2[k] = KANConv2d(1, o.degree)
            self.kan_expand_bn[k] = nn.BatchNorm2d(c_out)
            if o.mech == "gating":
                self.gate_convs[k] = nn.Conv2d(c_out, c_out, 1)
            elif o.mech == "se":
                hidden = max(c_out // 16, 1)
                self.se_blocks[k] = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c_out, hidden, 1), nn.ReLU(),
                                                  nn.Conv2d(hidden, c_out, 1), nn.Sigmoid())

    def residual(self, k, x):
        r = nn.functional.silu(self.conv_reduce[k](x))
        r = self.kan_bn[k](self.kan_conv1[k](r))
        r = nn.functional.silu(self.conv_expand[k](r))
        if k in self.kan_conv2:
            r = self.kan_conv2[k](r)
        return self.kan_expand_bn[k](r)

    def forward(self, x):
        net = self.resnet
        out = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        for i in range(4):
            identity = out
            out = getattr(net, f"layer{i + 1}")(out)
            if i not in self.stages:
                continue
            k = str(i)
            r = self.residual(k, identity)
            if self.mech == "addition":
                out = out + r
            elif self.mech == "gating":
                g = torch.sigmoid(self.gate_convs[k](r))
                out = out * g + r * (1 - g)
            else:
                out = out * self.se_blocks[k](r) + r
        return net.fc(torch.flatten(net.avgpool(out), 1))


def build_model(spec, classes, in_channels=3):
    """The PyTorch twin of `spec` (a string or ModelSpec) with `classes` outputs.

    Returns an nn.Module whose state_dict keys and shapes are those of rkan-repro's weights.
    Raises SpecError for a bad spec or a backbone without a twin.
    """
    if isinstance(spec, str):
        spec = parse_spec(spec)
    net = build_backbone(spec, classes, in_channels)
    return net if spec.rkan is None else RKANResNet(net, spec.rkan)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--selftest", action="store_true", help="run the self-test and exit non-zero on failure")
    ap.add_argument("--params", metavar="SPEC", nargs="*", help="print the parameter count of each spec")
    ap.add_argument("--classes", type=int, default=100)
    args = ap.parse_args()
    if args.params:
        for s in args.params:
            print(f"{s}: {count_params(build_model(s, args.classes)):,}")
    if args.selftest:
        from rkan_torch_selftest import selftest
        sys.exit(0 if selftest() else 1)
    if not args.params and not args.selftest:
        ap.print_help()


if __name__ == "__main__":
    main()
