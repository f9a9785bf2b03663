"""Backbones of the PyTorch twin, each with a `Walk`: how the RKAN wrapper runs it stage by stage.

- ResNet family (torchvision keys): resnet18…152, wide_resnet*, resnext*; seresnet50/101 (SE after
  bn3, `se.fc1`/`se.fc2` without bias, as the reference RKAN_SENet: 28.07M at 1000 classes);
  ela_l_resnet50 (Efficient Local Attention after bn3: `ela.conv` Conv1d k7 groups C/8, `ela.gn`
  GroupNorm(16)); resnet101d (the reference's RKANet_D, 815a357:residual_networks/RKAN_ResNet_D.py:
  deep stem `stem.0/1/3/4/6` then `bn1`, avg-pool shortcut `downsample.1/.2` on stride-2 blocks,
  torchvision's `downsample.0/.1` on layer1's).
- RegNetY (torchvision): `stem.0/1`, `trunk_output.blockI.blockI-J.f.{a,b,se,c}`, `proj`, `fc`.
- DenseNet (torchvision): `features.*`, `classifier`.
`stem=small`: 3×3 stride-1 first conv without max-pool (RegNet: also stride 1 in stage 1's first
block, as the reference's dataset_size "small"); not for resnet101d. `width`: channel multiplier.
"""
import math
from dataclasses import dataclass
from typing import Callable, List, Tuple

import torch
import torch.nn as nn
import torchvision
from torchvision.models.regnet import BlockParams, RegNet
from torchvision.models.resnet import BasicBlock, Bottleneck

from Tools.twin.spec import SpecError

# name: (block, blocks per stage, groups, width_per_group, variant)
RESNET_CONFIGS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2], 1, 64, None),
    "resnet34": (BasicBlock, [3, 4, 6, 3], 1, 64, None),
    "resnet50": (Bottleneck, [3, 4, 6, 3], 1, 64, None),
    "resnet101": (Bottleneck, [3, 4, 23, 3], 1, 64, None),
    "resnet152": (Bottleneck, [3, 8, 36, 3], 1, 64, None),
    "wide_resnet50_2": (Bottleneck, [3, 4, 6, 3], 1, 128, None),
    "wide_resnet101_2": (Bottleneck, [3, 4, 23, 3], 1, 128, None),
    "resnext50_32x4d": (Bottleneck, [3, 4, 6, 3], 32, 4, None),
    "resnext101_32x8d": (Bottleneck, [3, 4, 23, 3], 32, 8, None),
    "resnet101d": (Bottleneck, [3, 4, 23, 3], 1, 64, "d"),
    "seresnet50": (Bottleneck, [3, 4, 6, 3], 1, 64, "se"),
    "seresnet101": (Bottleneck, [3, 4, 23, 3], 1, 64, "se"),
    "ela_l_resnet50": (Bottleneck, [3, 4, 6, 3], 1, 64, "ela"),
}
# name: (depths, widths, group width), torchvision's BlockParams for the Y models (se_ratio 0.25).
REGNET_CONFIGS = {
    "regnet_y_400mf": ([1, 3, 6, 6], [48, 104, 208, 440], 8),
    "regnet_y_3_2gf": ([2, 5, 13, 1], [72, 216, 576, 1512], 24),
    "regnet_y_8gf": ([2, 4, 10, 1], [224, 448, 896, 2016], 56),
    "regnet_y_32gf": ([2, 5, 12, 1], [232, 696, 1392, 3712], 232),
}
# name: (growth rate, layers per block, initial features)
DENSENET_CONFIGS = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}
STEM_SMALL = [n for n in list(RESNET_CONFIGS) + list(REGNET_CONFIGS) + list(DENSENET_CONFIGS) if n != "resnet101d"]


def scaled(c, width):
    """max(1, round(c·width)), rounding halves away from zero like Swift's `.rounded()`."""
    return max(1, int(math.floor(c * width + 0.5)))


@dataclass
class Walk:
    """attr: the reference's attribute for the backbone (None: its modules at top level);
    stem(net, x), stages[i](net, x), head(net, x); channels[i] = (C_in, C_out, stride) of stage i."""
    attr: str
    stem: Callable
    stages: List[Callable]
    head: Callable
    channels: List[Tuple[int, int, int]]
    gating: bool = False        # the reference class has gate_convs
    se_bias: bool = False       # its se_blocks convs have biases (RKANeXt, RKAN_WideResNet)


# ------------------------------------------------------------------ ResNet family

class SqueezeExcite(nn.Module):
    """x · σ(fc2(ReLU(fc1(avgpool x)))), reduction 16, convs without bias (the reference's SENet)."""

    def __init__(self, c):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, c // 16, 1, bias=False)
        self.fc2 = nn.Conv2d(c // 16, c, 1, bias=False)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(self.avg_pool(x)))))


class EfficientLocalAttention(nn.Module):
    """x · σ(GN(conv1d(mean_w x))) · σ(GN(conv1d(mean_h x))), one conv and GN for both directions."""

    def __init__(self, c, k=7):
        super().__init__()
        self.conv = nn.Conv1d(c, c, k, padding=k // 2, groups=c // 8, bias=False)
        self.gn = nn.GroupNorm(16, c)

    def forward(self, x):
        ah = torch.sigmoid(self.gn(self.conv(x.mean(3))))            # (N, C, H)
        aw = torch.sigmoid(self.gn(self.conv(x.mean(2))))            # (N, C, W)
        return x * ah.unsqueeze(3) * aw.unsqueeze(2)


def _attention_bottleneck(kind):
    class AttentionBottleneck(Bottleneck):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            c = self.conv3.out_channels
            setattr(self, kind, SqueezeExcite(c) if kind == "se" else EfficientLocalAttention(c))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = getattr(self, kind)(self.bn3(self.conv3(out)))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)
    return AttentionBottleneck


class ScaledResNet(nn.Module):
    """torchvision's ResNet with every width (and the stem) multiplied by `width`; same keys. Options:
    `deep` (ResNet-D stem and avg-pool shortcuts, timm's keys), `attention` ("se" | "ela" after bn3)."""

    def __init__(self, block, layers, classes, width, groups=1, width_per_group=64, in_channels=3, deep=False):
        super().__init__()
        self.inplanes = scaled(64, width)
        if deep:
            s = scaled(32, width)
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, s, 3, 2, 1, bias=False), nn.BatchNorm2d(s), nn.ReLU(inplace=True),
                nn.Conv2d(s, s, 3, 1, 1, bias=False), nn.BatchNorm2d(s), nn.ReLU(inplace=True),
                nn.Conv2d(s, self.inplanes, 3, 1, 1, bias=False))
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            planes, stride = scaled(planes, width), 1 if i == 0 else 2
            if block is not BasicBlock and int(planes * width_per_group / 64) * groups == 0:
                raise SpecError(f"width={width}", f"stage {i + 1} leaves 0 channels for {groups} groups")
            down, out = None, planes * block.expansion
            if stride != 1 or self.inplanes != out:
                conv = nn.Conv2d(self.inplanes, out, 1, 1 if deep else stride, bias=False)
                if deep and stride != 1:
                    down = nn.Sequential(nn.AvgPool2d(2, 2), conv, nn.BatchNorm2d(out))
                else:
                    down = nn.Sequential(conv, nn.BatchNorm2d(out))
            blocks = [block(self.inplanes, planes, stride, down, groups, width_per_group)]
            self.inplanes = out
            blocks += [block(self.inplanes, planes, 1, None, groups, width_per_group) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(resnet_features(self, x)), 1))


def resnet_features(net, x):
    """Stem and the four stages of a torchvision-style ResNet (no pooling, no classifier)."""
    x = net.maxpool(net.relu(net.bn1(net.stem(x) if hasattr(net, "stem") else net.conv1(x))))
    return net.layer4(net.layer3(net.layer2(net.layer1(x))))


def build_resnet(spec, classes, in_channels=3, force_scaled=False):
    block, layers, groups, wpg, variant = RESNET_CONFIGS[spec.backbone]
    if variant == "d" and spec.stem == "small":
        raise SpecError(str(spec), f"stem=small is not available for resnet101d (deep stem); backbones with stem=small: {', '.join(STEM_SMALL)}")
    if variant in ("se", "ela"):
        block = _attention_bottleneck(variant)
        for p in [64, 128, 256, 512]:
            c = scaled(p, spec.width) * 4
            if (variant == "se" and c < 16) or (variant == "ela" and (c < 16 or c % 16 or c % (c // 8))):
                raise SpecError(str(spec), f"width={spec.width} gives {c} channels, too few for the {variant} attention")
    if spec.width == 1 and variant is None and not force_scaled:
        net = getattr(torchvision.models, spec.backbone)(weights=None, num_classes=classes)
    else:
        net = ScaledResNet(block, layers, classes, spec.width, groups, wpg, in_channels, deep=variant == "d")
    stem = net.bn1.num_features
    if spec.stem == "small":
        net.conv1 = nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    elif variant != "d" and in_channels != net.conv1.in_channels:
        net.conv1 = nn.Conv2d(in_channels, stem, 7, 2, 3, bias=False)
    return net


def resnet_walk(spec, net):
    c_in, channels = net.bn1.num_features, []
    for i in range(4):
        last = getattr(net, f"layer{i + 1}")[-1]
        c_out = (last.conv3 if hasattr(last, "conv3") else last.conv2).out_channels
        channels.append((c_in, c_out, 1 if i == 0 else 2))
        c_in = c_out
    _, _, groups, wpg, variant = RESNET_CONFIGS[spec.backbone]
    attr = None if variant == "d" else "resnext" if groups > 1 else "wideresnet" if wpg != 64 else "resnet"
    return Walk(attr,
                lambda m, x: m.maxpool(m.relu(m.bn1(m.stem(x) if hasattr(m, "stem") else m.conv1(x)))),
                [lambda m, x, i=i: getattr(m, f"layer{i + 1}")(x) for i in range(4)],
                lambda m, x: m.fc(torch.flatten(m.avgpool(x), 1)), channels,
                gating=attr in (None, "resnet"), se_bias=attr in ("resnext", "wideresnet"))


# ------------------------------------------------------------------ RegNetY

def regnet_params(spec):
    """(stem width, BlockParams) of a RegNetY scaled by `width` (group widths kept dividing the widths)."""
    depths, widths, gw = REGNET_CONFIGS[spec.backbone]
    ws, gs = [], []
    for w in widths:
        w = scaled(w, spec.width)
        g = min(gw, w)
        ws.append(max(g, int(math.floor(w / g + 0.5)) * g))
        gs.append(g)
    stem = scaled(32, spec.width)
    if int(round(0.25 * stem)) < 1:
        raise SpecError(str(spec), f"width {spec.width} leaves a {stem}-channel stem, too narrow for the first block's SE (0.25 · width)")
    return stem, BlockParams(depths, ws, gs, [1.0] * 4, [2] * 4, 0.25)


def build_regnet(spec, classes, in_channels=3):
    if spec.width == 1:
        net = getattr(torchvision.models, spec.backbone)(weights=None, num_classes=classes)
    else:
        stem, bp = regnet_params(spec)
        net = RegNet(bp, num_classes=classes, stem_width=stem)
    stem = net.stem[0].out_channels
    if spec.stem == "small" or in_channels != 3:
        small = spec.stem == "small"
        net.stem[0] = nn.Conv2d(in_channels, stem, 3, 1 if small else 2, 1, bias=False)
        if small:
            net.trunk_output[0][0].proj[0].stride = (1, 1)
            net.trunk_output[0][0].f.b[0].stride = (1, 1)
    return net


def regnet_walk(spec, net):
    c_in, channels = net.stem[0].out_channels, []
    for i, st in enumerate(net.trunk_output):
        c_out = st[-1].f.c[0].out_channels
        channels.append((c_in, c_out, 1 if spec.stem == "small" and i == 0 else 2))
        c_in = c_out
    return Walk("regnet", lambda m, x: m.stem(x), [lambda m, x, i=i: m.trunk_output[i](x) for i in range(4)],
                lambda m, x: m.fc(torch.flatten(m.avgpool(x), 1)), channels)


# ------------------------------------------------------------------ DenseNet

def build_densenet(spec, classes, in_channels=3):
    growth, blocks, init = DENSENET_CONFIGS[spec.backbone]
    if spec.width == 1:
        net = getattr(torchvision.models, spec.backbone)(weights=None, num_classes=classes)
    else:
        net = torchvision.models.DenseNet(scaled(growth, spec.width), blocks, scaled(init, spec.width), num_classes=classes)
    f = net.features
    if spec.stem == "small":
        f.conv0 = nn.Conv2d(in_channels, f.conv0.out_channels, 3, 1, 1, bias=False)
        f.pool0 = nn.Identity()
    elif in_channels != 3:
        f.conv0 = nn.Conv2d(in_channels, f.conv0.out_channels, 7, 2, 3, bias=False)
    return net


def densenet_walk(spec, net):
    f = net.features
    c_in, channels = f.conv0.out_channels, []
    for i in range(4):
        c_out = f.norm5.num_features if i == 3 else getattr(f, f"transition{i + 1}").conv.out_channels
        channels.append((c_in, c_out, 1 if i == 3 else 2))
        c_in = c_out

    def stage(m, x, i):
        f = m.features
        x = getattr(f, f"denseblock{i + 1}")(x)
        # RKAN_DenseNet (fe63108) applies norm5 and no ReLU before the residual and the pool.
        return getattr(f, f"transition{i + 1}")(x) if i < 3 else f.norm5(x)
    return Walk("densenet", lambda m, x: m.features.pool0(m.features.relu0(m.features.norm0(m.features.conv0(x)))),
                [lambda m, x, i=i: stage(m, x, i) for i in range(4)],
                lambda m, x: m.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)), channels)


def build_backbone(spec, classes, in_channels=3, force_scaled=False):
    """The plain backbone of `spec` (torchvision's own model where it has one at width 1)."""
    if spec.backbone in RESNET_CONFIGS:
        return build_resnet(spec, classes, in_channels, force_scaled)
    if spec.backbone in REGNET_CONFIGS:
        return build_regnet(spec, classes, in_channels)
    return build_densenet(spec, classes, in_channels)


def walk(spec, net):
    """The `Walk` of a backbone built by `build_backbone(spec, ...)`."""
    if spec.backbone in RESNET_CONFIGS:
        return resnet_walk(spec, net)
    if spec.backbone in REGNET_CONFIGS:
        return regnet_walk(spec, net)
    return densenet_walk(spec, net)
