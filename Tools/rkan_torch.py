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
import re
import sys
from dataclasses import dataclass, field
from typing import List, Optional

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

# --------------------------------------------------------------------------------------------
# Model specs: backbone[(opt=value,...)][+rkan[(opt=value,...)]]
# --------------------------------------------------------------------------------------------

BACKBONES = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "wide_resnet50_2", "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d",
    "resnet101d", "seresnet50", "seresnet101", "ela_l_resnet50",
    "regnet_y_400mf", "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_32gf",
    "densenet121", "densenet161", "densenet169", "densenet201",
]

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


class SpecError(ValueError):
    """A model spec that cannot be parsed or names something unknown."""

    def __init__(self, spec, problem):
        super().__init__(f"model spec '{spec}': {problem}")


@dataclass
class RKANOptions:
    stages: List[int] = field(default_factory=lambda: [4])  # 1-based stage numbers
    reduce: int = 2                                          # M = C_in // reduce
    inv: Optional[int] = None                                # RKAN-L: M = C_in * inv
    kan: str = "chebyshev"
    degree: int = 3
    mech: str = "addition"


@dataclass
class ModelSpec:
    backbone: str
    stem: str = "standard"
    width: float = 1.0
    rkan: Optional[RKANOptions] = None

    def __str__(self):
        """Canonical text, defaults omitted (the same as the Swift ModelSpec.description)."""
        def num(x):
            return str(int(x)) if float(x).is_integer() else repr(float(x))
        opts = ([f"stem={self.stem}"] if self.stem != "standard" else []) + \
               ([f"width={num(self.width)}"] if self.width != 1 else [])
        s = self.backbone + (f"({','.join(opts)})" if opts else "")
        if self.rkan is not None:
            r, o = self.rkan, []
            if r.stages != [4]:
                o.append("stages=" + "/".join(map(str, r.stages)))
            if r.inv is not None:
                o.append(f"inv={r.inv}")
            elif r.reduce != 2:
                o.append(f"reduce={r.reduce}")
            o += [f"kan={r.kan}"] if r.kan != "chebyshev" else []
            o += [f"degree={r.degree}"] if r.degree != 3 else []
            o += [f"mech={r.mech}"] if r.mech != "addition" else []
            s += "+rkan" + (f"({','.join(o)})" if o else "")
        return s


def _split_call(part, spec):
    """`name(k=v,...)` -> (name, [(k, v)])."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(?:\((.*)\))?\s*", part)
    if not m:
        raise SpecError(spec, f"cannot read '{part}'; expected name or name(key=value,...)")
    opts, seen = [], set()
    for item in filter(None, (m.group(2) or "").split(",")):
        kv = [t.strip() for t in item.split("=", 1)]
        if len(kv) != 2 or not kv[0] or not kv[1]:
            raise SpecError(spec, f"option '{item}' is not of the form key=value")
        if kv[0] in seen:
            raise SpecError(spec, f"option '{kv[0]}' given twice")
        seen.add(kv[0])
        opts.append((kv[0], kv[1]))
    return m.group(1), opts


def _int_in(spec, key, v, lo, hi):
    if not re.fullmatch(r"\d+", v) or not lo <= int(v) <= hi:
        raise SpecError(spec, f"{key} must be an integer in {lo}…{hi}, got '{v}'")
    return int(v)


def parse_spec(text):
    """Parses `backbone[(opt=value,...)][+rkan[(opt=value,...)]]` into a ModelSpec.

    Raises SpecError naming the bad backbone or option and the valid choices (as the Swift parser).
    """
    spec = text.strip()
    if spec.count("(") != spec.count(")"):
        raise SpecError(spec, "unbalanced parentheses")
    parts = [p.strip() for p in re.split(r"\+(?![^()]*\))", spec)]
    if not 1 <= len(parts) <= 2 or not parts[0]:
        raise SpecError(spec, "expected backbone[(options)][+rkan[(options)]]")
    name, opts = _split_call(parts[0], spec)
    if name not in BACKBONES:
        raise SpecError(spec, f"unknown backbone '{name}'; valid backbones: {', '.join(BACKBONES)}")
    out = ModelSpec(name)
    for k, v in opts:
        if k == "stem":
            if v not in ("standard", "small"):
                raise SpecError(spec, f"stem must be one of standard, small, got '{v}'")
            out.stem = v
        elif k == "width":
            try:
                w = float(v)
            except ValueError:
                w = -1.0
            if not 0 < w <= 4:
                raise SpecError(spec, f"width must be a number in (0, 4], got '{v}'")
            out.width = w
        else:
            raise SpecError(spec, f"unknown backbone option '{k}'; valid options: stem=standard|small, width=<multiplier>")
    if len(parts) == 1:
        return out
    name, opts = _split_call(parts[1], spec)
    if name != "rkan":
        raise SpecError(spec, f"unknown extension '{name}'; the only one is 'rkan'")
    r = RKANOptions()
    for k, v in opts:
        if k == "stages":
            st = v.split("/")
            if not all(re.fullmatch(r"[1-4]", s) for s in st):
                raise SpecError(spec, f"stages must be stage numbers 1–4 separated by '/', e.g. 4 or 3/4, got '{v}'")
            r.stages = sorted({int(s) for s in st})
        elif k == "reduce":
            r.reduce = _int_in(spec, k, v, 1, 64)
        elif k == "inv":
            r.inv = _int_in(spec, k, v, 1, 16)
        elif k == "degree":
            r.degree = _int_in(spec, k, v, 1, 8)
        elif k == "kan":
            if v not in ("chebyshev", "rbf", "b_spline"):
                raise SpecError(spec, f"kan must be one of chebyshev, rbf, b_spline, got '{v}'")
            r.kan = v
        elif k == "mech":
            if v not in ("addition", "gating", "se"):
                raise SpecError(spec, f"mech must be one of addition, gating, se, got '{v}'")
            r.mech = v
        else:
            raise SpecError(spec, f"unknown rkan option '{k}'; valid options: stages, reduce, inv, kan, degree, mech")
    out.rkan = r
    return out


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


# --------------------------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------------------------

def _kan_conv_loop(x, kan, stride):
    """Plain reference: every output pixel of every channel from its zero-padded 3×3 patch."""
    n, c, h, w = x.shape
    pad = nn.functional.pad(x, (1, 1, 1, 1)).double()
    base = kan.base_linear.weight.double()[0]
    cheb = (kan.chebyshev_weight[0] * kan.chebyshev_scaler[0].unsqueeze(-1)).double()
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
    # Exact values by hand: stage 4 adds 1024·512 + 54 + 2·512 + 512·2048 + 54 + 2·2048 = 1,578,092;
    # 4×L adds 1024·4096 + 54 + 2·4096 + 4096·2048 + 54 + 2·2048; stage 3 adds 512·256 + 54 + 2·256 + 256·1024 + 2·1024.
    expected = [("resnet101", 42_705_060, 42.71), ("resnet101+rkan", 44_283_152, 44.28),
                ("resnet101+rkan(inv=4)", 55_300_368, 55.30), ("resnet101+rkan(stages=3/4)", 44_678_982, 44.68)]
    for text, n, m in expected:
        got = count_params(build_model(text, 100))
        check(f"params {text} (100 classes)", got == n and round(got / 1e6, 2) == m,
              f"{got:,} = {got / 1e6:.2f}M (expected {n:,}, published {m:.2f}M)")
    for name in RESNET_CONFIGS:
        tv = getattr(torchvision.models, name)(weights=None, num_classes=100)
        ours = build_backbone(parse_spec(name), 100, force_scaled=True)
        same = {k: v.shape for k, v in tv.state_dict().items()} == {k: v.shape for k, v in ours.state_dict().items()}
        check(f"ScaledResNet(width=1) keys/shapes == torchvision {name}", same, f"{count_params(ours):,} params")

    # RKAN keys.
    sd = build_model("resnet18(stem=small,width=0.25)+rkan(stages=3/4,mech=gating)", 10).state_dict()
    want = {"resnet.conv1.weight": (16, 3, 3, 3), "conv_reduce.2.weight": (16, 32, 1, 1),
            "kan_conv1.2.convs.0.conv.chebyshev_weight": (1, 9, 4), "kan_bn.3.running_var": (32,),
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--selftest", action="store_true", help="run the self-test and exit non-zero on failure")
    ap.add_argument("--params", metavar="SPEC", nargs="*", help="print the parameter count of each spec")
    ap.add_argument("--classes", type=int, default=100)
    args = ap.parse_args()
    if args.params:
        for s in args.params:
            print(f"{s}: {count_params(build_model(s, args.classes)):,}")
    if args.selftest:
        sys.exit(0 if selftest() else 1)
    if not args.params and not args.selftest:
        ap.print_help()


if __name__ == "__main__":
    main()
