"""PyTorch peer for a detector spec: torchvision's Mask R-CNN around the twin of its backbone, as
the reference's RKAN_RCNN builds it (BackboneWithFPN over layer1–layer4, FPN 256, 15 anchors per
location, min_size = size, max_size = int(size * 1.666), 81 classes), timed the way
`rkan-repro bench 'maskrcnn(...)'` times rkan-repro's detector:

    python3 -m Tools.bench.peer_detector --spec 'maskrcnn(resnet50)' --mode infer --batch 1 --size 640
    python3 -m Tools.bench.peer_detector --spec 'maskrcnn(resnet50+rkan)' --mode train --batch 2 --size 640

infer: eval mode on `batch` random 3×size×size images in [0, 1) (`measure_inference_speed`'s
input), transform, detection and mask pasting included; train: one training step on them with
one object each (a centred box and its mask), backward and an SGD step. Prints one JSON line
(img/s of each repeat, the median, threads, peak RSS). The body is the project's PyTorch twin
(Tools/twin), wrapped so every stage output feeds the FPN; its RKAN residuals are the twin's.
"""
import argparse
import json
import os
import resource
import statistics
import time
from collections import OrderedDict

import torch
import torch.nn as nn
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.rpn import AnchorGenerator
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

from Tools.twin.backbones import walk
from Tools.twin.model import build_model
from Tools.twin.spec import parse_spec


class TwinBody(nn.Module):
    """The twin classifier of a backbone spec, returning its four stage outputs (with the RKAN
    residual added where the spec has one), then the FPN: BackboneWithFPN's contract."""

    def __init__(self, backbone_spec):
        super().__init__()
        spec = parse_spec(backbone_spec)
        self.net = build_model(spec, 1000)
        self.rkan = spec.rkan is not None
        self.w = self.net.walk if self.rkan else walk(spec, self.net)
        channels = [c for _, c, _ in self.w.channels]
        self.fpn = FeaturePyramidNetwork(channels, 256, extra_blocks=LastLevelMaxPool())
        self.out_channels = 256

    def forward(self, x):
        net = self.net
        base = getattr(net, self.w.attr) if self.rkan and self.w.attr else net
        out = self.w.stem(base, x)
        feats = OrderedDict()
        for i in range(4):
            identity = out
            out = self.w.stages[i](base, out)
            if self.rkan and i in net.stages:
                r = net.residual(str(i), identity)
                if net.mech == "addition":
                    out = out + r
                elif net.mech == "gating":
                    g = torch.sigmoid(net.gate_convs[str(i)](r))
                    out = out * g + r * (1 - g)
                else:
                    out = out + r * net.se_blocks[str(i)](r)
            feats[str(i)] = out
        return self.fpn(feats)


def build(spec, size, classes=81):
    inner = spec[len("maskrcnn("):-1] if spec.startswith("maskrcnn(") else spec
    anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512),) * 5, aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    return MaskRCNN(TwinBody(inner), num_classes=classes, rpn_anchor_generator=anchors, min_size=size, max_size=int(size * 1.666))


def make_step(spec, mode, batch, size):
    torch.manual_seed(0)
    model = build(spec, size)
    images = [torch.rand(3, size, size) for _ in range(batch)]
    if mode == "infer":
        model.eval()

        def step():
            with torch.inference_mode():
                model(images)
        return step
    lo, hi = size // 4, size - size // 4
    mask = torch.zeros(1, size, size, dtype=torch.uint8)
    mask[:, lo:hi, lo:hi] = 1
    target = {"boxes": torch.tensor([[lo, lo, hi, hi]], dtype=torch.float32), "labels": torch.tensor([1]), "masks": mask}
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        sum(model(images, [target] * batch).values()).backward()
        opt.step()
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--mode", choices=["train", "infer"], default="infer")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    step = make_step(a.spec, a.mode, a.batch, a.size)
    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.iters):
            step()
        rates.append(a.batch * a.iters / (time.perf_counter() - t0))
    print(json.dumps({"spec": a.spec, "mode": a.mode, "batch": a.batch, "size": a.size, "threads": a.threads,
                      "imagesPerSecond": statistics.median(rates), "repeats": rates, "torch": torch.__version__,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
