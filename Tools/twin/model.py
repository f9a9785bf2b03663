"""PyTorch twin of rkan-repro's model zoo (developer tool: needs torch/torchvision, never run by CI).

`parse_spec(text)` reads the model-spec grammar of docs/design.md, `build_model(spec, classes)` returns
an nn.Module whose `state_dict()` keys and shapes are exactly those of the Swift zoo's HDF5
weights: torchvision's keys for a baseline (RKANet_D's for resnet101d), and for an RKAN model the
backbone's keys under the reference class's attribute (`resnet.`, `resnext.`, `wideresnet.`,
`regnet.`, `densenet.`; none for RKANet_D) plus the RKAN modules (`conv_reduce.i`,
`kan_conv1.i.convs.0.conv.*`, `kan_bn.i`, `conv_expand.i`, `kan_conv2.i.*` on stage 4 only,
`kan_expand_bn.i`, `gate_convs.i` / `se_blocks.i.{1,3}`). Only the RKAN stages in use are registered, so `parameters()` counts exactly
the parameters of the forward pass (the published counts' convention).
Backbones: Tools/twin/backbones.py; KAN convolutions: Tools/twin/kan.py; the self-test of all
three is Tools/twin/selftest.py.

    python3 -m Tools.twin.model --params resnet50 'resnet50+rkan' --classes 1000
"""
import argparse

import torch
import torch.nn as nn

from Tools.twin.backbones import build_backbone, walk
from Tools.twin.kan import GRIDS, GRIDS_WITHOUT_ARGUMENT, KANConv2d
from Tools.twin.spec import SpecError, parse_spec


class RKANNet(nn.Module):
    """A backbone with RKAN blocks on the chosen stages (docs/design.md "Model specs").

    Per RKAN stage i (0-based): r = SiLU(conv_reduce.i(x)); r = kan_bn.i(kan_conv1.i(r));
    r = SiLU(conv_expand.i(r)); r = kan_conv2.i(r) (stage 4 only, degree2); r = kan_expand_bn.i(r);
    then out = stage(x) + r (addition), out·g + r·(1−g) with g = σ(gate_convs.i(r)) (gating),
    or out + r·s with s = se_blocks.i(r) (se; convs without bias except RKANeXt / RKAN_WideResNet). The backbone sits under `walk.attr` (or, when that is
    None, its modules are this module's own, as in the reference's RKANet_D).
    """

    def __init__(self, backbone, walk, options, grids=GRIDS):
        super().__init__()
        o = options
        self.walk = walk
        if walk.attr is None:
            for name, child in backbone.named_children():
                setattr(self, name, child)
        else:
            setattr(self, walk.attr, backbone)
        self.mech = o.mech
        self.stages = [s - 1 for s in o.stages]
        if o.mech == "gating" and not walk.gating:
            raise SpecError("mech=gating", "not available: the reference class of this backbone has no gate_convs")
        self.conv_reduce, self.kan_conv1, self.kan_bn = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        self.conv_expand, self.kan_conv2, self.kan_expand_bn = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        self.gate_convs, self.se_blocks = nn.ModuleDict(), nn.ModuleDict()
        for i in self.stages:
            c_in, c_out, stride = walk.channels[i]
            if o.inv is None and c_in % o.reduce != 0:
                raise SpecError(f"reduce={o.reduce}", f"does not divide the {c_in} input channels of stage {i + 1}")
            m = c_in * o.inv if o.inv is not None else c_in // o.reduce
            k = str(i)
            self.conv_reduce[k] = nn.Conv2d(c_in, m, 1, bias=False)
            self.kan_conv1[k] = KANConv2d(stride, o.degree, o.kan, grids[0])
            self.kan_bn[k] = nn.BatchNorm2d(m)
            self.conv_expand[k] = nn.Conv2d(m, c_out, 1, bias=False)
            if i == 3:
                self.kan_conv2[k] = KANConv2d(1, o.degree2, o.kan, grids[1])
            self.kan_expand_bn[k] = nn.BatchNorm2d(c_out)
            if o.mech == "gating":
                self.gate_convs[k] = nn.Conv2d(c_out, c_out, 1)
            elif o.mech == "se":
                hidden = max(c_out // 16, 1)
                self.se_blocks[k] = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c_out, hidden, 1, bias=walk.se_bias), nn.ReLU(),
                                                  nn.Conv2d(hidden, c_out, 1, bias=walk.se_bias), nn.Sigmoid())

    def residual(self, k, x):
        r = nn.functional.silu(self.conv_reduce[k](x))
        r = self.kan_bn[k](self.kan_conv1[k](r))
        r = nn.functional.silu(self.conv_expand[k](r))
        if k in self.kan_conv2:
            r = self.kan_conv2[k](r)
        return self.kan_expand_bn[k](r)

    def forward(self, x):
        net = self if self.walk.attr is None else getattr(self, self.walk.attr)
        out = self.walk.stem(net, x)
        for i in range(4):
            identity = out
            out = self.walk.stages[i](net, out)
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
                out = out + r * self.se_blocks[k](r)
        return self.walk.head(net, out)


def stage_channels(net, spec="resnet50"):
    """[(C_in, C_out)] of the four stages of a backbone built for `spec`."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    return [(a, b) for a, b, _ in walk(spec, net).channels]


def build_model(spec, classes, in_channels=3):
    """The PyTorch twin of `spec` (a string or ModelSpec) with `classes` outputs.

    Returns an nn.Module whose state_dict keys and shapes are those of rkan-repro's weights.
    Raises SpecError for a bad spec or a backbone without a twin.
    """
    if isinstance(spec, str):
        spec = parse_spec(spec)
    net = build_backbone(spec, classes, in_channels)
    if spec.rkan is None:
        if spec.backbone.startswith("densenet"):
            # The reference builds DenseNet baselines with RKAN_DenseNet(mechanisms=None): norm5, no ReLU.
            w = walk(spec, net)
            net.forward = lambda x, m=net, w=w: w.head(m, w.stages[3](m, w.stages[2](m, w.stages[1](m, w.stages[0](m, w.stem(m, x))))))
        return net
    grids = GRIDS_WITHOUT_ARGUMENT if spec.backbone in ("seresnet50", "seresnet101", "resnet101d") else GRIDS
    return RKANNet(net, walk(spec, net), spec.rkan, grids)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", metavar="SPEC", nargs="*", help="print the parameter count of each spec")
    ap.add_argument("--classes", type=int, default=100)
    args = ap.parse_args()
    if args.params:
        for s in args.params:
            print(f"{s}: {count_params(build_model(s, args.classes)):,}")
    if not args.params:
        ap.print_help()


if __name__ == "__main__":
    main()
