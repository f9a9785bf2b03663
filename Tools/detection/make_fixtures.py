"""torchvision fixtures for the engine's detection ops (developer tool: needs torch and
torchvision; `swift test` only reads the JSON it writes).

Writes Tests/Fixtures/engine/detection.json: a list of cases in the format of
Tools/fixtures/common.py ({"name", "config", "tensors"}, PyTorch layout, float32 values; integer
results such as kept indices and levels are stored as exact float values). Each case name starts
with its op: roi_align, multiscale, level_mapper, encode, decode, clip, small, nms, batched_nms,
anchors, smooth_l1, bce, nearest, conv_transpose, max_pool_k1s2, paste_masks.

Usage: python3 -m Tools.detection.make_fixtures
"""
import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.ops import boxes as box_ops
from torchvision.ops import poolers

from Tools.fixtures.common import case, write

torch.use_deterministic_algorithms(True)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random_boxes(g, n, height, width, min_side=0.2, max_side=None, spill=0.15):
    """Boxes (x1, y1, x2, y2) of log-uniform sides; some spill over the image border."""
    max_side = max_side or max(height, width)
    side_w = torch.exp(torch.empty(n).uniform_(math.log(min_side), math.log(max_side), generator=g))
    side_h = side_w * torch.exp(torch.empty(n).uniform_(-0.7, 0.7, generator=g))
    cx = torch.empty(n).uniform_(-spill * width, (1 + spill) * width, generator=g)
    cy = torch.empty(n).uniform_(-spill * height, (1 + spill) * height, generator=g)
    return torch.stack([cx - side_w / 2, cy - side_h / 2, cx + side_w / 2, cy + side_h / 2], 1)


def roi_align_cases():
    g = gen(24)
    cases = []
    # name, (N, C, H, W), K, output size (h, w), spatial scale, sampling ratio
    configs = [
        ("roi_align_7x7_s2_scale4", (2, 3, 12, 16), 7, (7, 7), 0.25, 2),
        ("roi_align_14x14_s2_scale8", (2, 3, 9, 11), 4, (14, 14), 0.125, 2),
        ("roi_align_7x7_adaptive", (1, 3, 10, 13), 6, (7, 7), 0.5, 0),
        ("roi_align_3x5_adaptive_neg", (2, 2, 8, 6), 5, (3, 5), 1.0, -1),
        ("roi_align_7x7_s2_scale1_tiny_and_outside", (1, 2, 7, 9), 8, (7, 7), 1.0, 2),
    ]
    for name, (n, c, h, w), k, (ph, pw), scale, sr in configs:
        x = torch.randn(n, c, h, w, generator=g).requires_grad_()
        boxes = random_boxes(g, k, h / scale, w / scale, min_side=0.3)
        if "outside" in name:
            boxes[0] = torch.tensor([-5.0, -4.0, -1.5, -2.0])        # wholly left of / above the map
            boxes[1] = torch.tensor([w + 0.5, h + 2.0, w + 4.0, h + 6.0])   # wholly beyond it
            boxes[2] = torch.tensor([2.0, 3.0, 2.2, 3.1])            # below one pixel: forced to 1×1
            boxes[3] = torch.tensor([4.0, 1.0, 3.0, 0.5])            # inverted
        idx = torch.randint(0, n, (k, 1), generator=g).float()
        rois = torch.cat([idx, boxes], 1)
        y = torchvision.ops.roi_align(x, rois, (ph, pw), spatial_scale=scale, sampling_ratio=sr, aligned=False)
        dout = torch.randn(*y.shape, generator=g)
        y.backward(dout)
        cases.append(case(name, dict(out_h=ph, out_w=pw, scale=scale, sampling_ratio=sr),
                          input=x, rois=rois, output=y, dout=dout, dinput=x.grad))
    return cases


def multiscale_cases():
    """MultiScaleRoIAlign on FPN-like maps of a padded batch (level mapper and per-level scales)."""
    g = gen(25)
    cases = []
    # name, padded batch (H, W), image sizes, output size
    for name, (H, W), sizes, out in [
        ("multiscale_box_7", (128, 160), [(128, 150), (100, 160)], 7),
        ("multiscale_mask_14", (96, 128), [(90, 128)], 14),
    ]:
        c = 2
        feats = OrderedDict()
        for i, stride in enumerate([4, 8, 16, 32]):
            feats[str(i)] = torch.randn(len(sizes), c, math.ceil(H / stride), math.ceil(W / stride), generator=g)
        feats["pool"] = torch.randn(len(sizes), c, 2, 3, generator=g)
        # Sides up to 4× the image so that every level 2–5 gets boxes.
        boxes = [random_boxes(g, 10, h, w, min_side=4, max_side=4 * max(h, w), spill=0.05) for h, w in sizes]
        pooler = poolers.MultiScaleRoIAlign(["0", "1", "2", "3"], out, 2)
        y = pooler(feats, boxes, sizes)
        tensors = {f"feature{i}": feats[str(i)] for i in range(4)}
        tensors.update(boxes=torch.cat(boxes), counts=torch.tensor([len(b) for b in boxes]).float(),
                       image_sizes=torch.tensor(sizes).float(), output=y)
        cases.append(case(name, dict(out=out, padded_h=H, padded_w=W), **tensors))
    return cases


def level_mapper_cases():
    g = gen(26)
    boxes = random_boxes(g, 300, 800, 1000, min_side=1, max_side=1200)
    # Boxes whose √area sits exactly on a level boundary (112, 224, 448 px) and degenerate ones.
    exact = torch.tensor([[0, 0, 112, 112], [10, 10, 234, 234], [0, 0, 448, 448], [5, 5, 5, 9], [0, 0, 56, 56]], dtype=torch.float32)
    boxes = torch.cat([boxes, exact])
    scales, mapper = poolers._setup_scales([torch.zeros(1, 1, 200, 250), torch.zeros(1, 1, 100, 125),
                                            torch.zeros(1, 1, 50, 63), torch.zeros(1, 1, 25, 32)],
                                           [(800, 1000), (760, 990)], 224, 4)
    levels = mapper([boxes])
    return [case("level_mapper_800", dict(k_min=mapper.k_min, k_max=mapper.k_max),
                 boxes=boxes, levels=levels.float(), scales=torch.tensor(scales))]


def coder_cases():
    g = gen(27)
    cases = []
    for name, weights in [("rpn", (1.0, 1.0, 1.0, 1.0)), ("roi_heads", (10.0, 10.0, 5.0, 5.0))]:
        coder = det_utils.BoxCoder(weights)
        proposals = random_boxes(g, 40, 600, 800, min_side=2)
        matched = proposals + torch.randn(40, 4, generator=g) * 0.2 * (proposals[:, 2:] - proposals[:, :2]).repeat(1, 2)
        matched[:, 2:] = torch.maximum(matched[:, 2:], matched[:, :2] + 0.5)
        targets = coder.encode_single(matched, proposals)
        cases.append(case(f"encode_{name}", dict(wx=weights[0], wy=weights[1], ww=weights[2], wh=weights[3]),
                          matched=matched, proposals=proposals, targets=targets))
        for classes in [1, 3]:
            boxes = random_boxes(g, 30, 600, 800, min_side=2)
            deltas = torch.randn(30, 4 * classes, generator=g) * 2
            deltas[:4, 2] = torch.tensor([5.0, 6.0, 20.0, -20.0]) * weights[2]   # dw beyond the clip
            decoded = coder.decode(deltas, [boxes])
            cases.append(case(f"decode_{name}_{classes}", dict(wx=weights[0], wy=weights[1], ww=weights[2], wh=weights[3], classes=classes),
                              deltas=deltas, boxes=boxes, decoded=decoded.reshape(30, classes, 4)))
    return cases


def clip_small_cases():
    g = gen(28)
    boxes = random_boxes(g, 60, 50, 70, min_side=0.0005, max_side=90, spill=0.4)
    clipped = box_ops.clip_boxes_to_image(boxes, (50, 70))
    cases = [case("clip_50x70", dict(height=50, width=70), boxes=boxes, clipped=clipped)]
    for min_size in [1e-3, 2.0]:
        keep = box_ops.remove_small_boxes(clipped, min_size)
        cases.append(case(f"small_{min_size}", dict(min_size=min_size), boxes=clipped, keep=keep.float()))
    return cases


def nms_cases():
    g = gen(29)
    cases = []
    # Clusters of overlapping boxes; scores rounded to 1/8 so that many are equal (ties).
    centres = torch.rand(12, 2, generator=g) * 200
    boxes = []
    for cx, cy in centres:
        for _ in range(8):
            w, h = 10 + torch.rand(2, generator=g) * 40
            jx, jy = torch.randn(2, generator=g) * 6
            boxes.append([cx + jx - w / 2, cy + jy - h / 2, cx + jx + w / 2, cy + jy + h / 2])
    boxes = torch.tensor(boxes)
    boxes = torch.cat([boxes, boxes[:6]])            # exact duplicates
    scores = torch.round(torch.rand(len(boxes), generator=g) * 8) / 8
    for thr in [0.3, 0.5, 0.7]:
        keep = torchvision.ops.nms(boxes, scores, thr)
        cases.append(case(f"nms_{thr}", dict(iou=thr), boxes=boxes, scores=scores, keep=keep.float()))
    groups = torch.randint(0, 4, (len(boxes),), generator=g)
    # The per-group path ends with a non-stable sort of the kept scores: with tied scores its order
    # is the sort's, so the tied case is compared up to order within ties, the untied one exactly.
    distinct = torch.rand(len(boxes), generator=g)
    for tag, sc in [("ties", scores), ("distinct", distinct)]:
        for thr in [0.5, 0.7]:
            trick = box_ops._batched_nms_coordinate_trick(boxes, sc, groups, thr)
            vanilla = box_ops._batched_nms_vanilla(boxes, sc, groups, thr)
            cases.append(case(f"batched_nms_{tag}_{thr}", dict(iou=thr, ties=int(tag == "ties")), boxes=boxes, scores=sc,
                              groups=groups.float(), keep_offsets=trick.float(), keep_per_group=vanilla.float()))
    return cases


def anchor_cases():
    cases = []
    # A padded size that is not a multiple of the maps: strides 4, 8, 13, 20, 35 (integer division).
    images = torch.zeros(2, 3, 40, 70)
    sizes = [(40, 70), (36, 66)]
    feats = [torch.zeros(2, 1, 10, 18), torch.zeros(2, 1, 5, 9), torch.zeros(2, 1, 3, 5),
             torch.zeros(2, 1, 2, 3), torch.zeros(2, 1, 1, 2)]
    for name, gen_ in [("anchors_reference", AnchorGenerator(sizes=((32, 64, 128, 256, 512),) * 5, aspect_ratios=((0.5, 1.0, 2.0),) * 5)),
                       ("anchors_torchvision_default", AnchorGenerator(sizes=((32,), (64,), (128,), (256,), (512,)), aspect_ratios=((0.5, 1.0, 2.0),) * 5))]:
        anchors = gen_(ImageList(images, sizes), feats)
        cell = torch.cat([c for c in gen_.cell_anchors])
        cases.append(case(name, dict(padded_h=40, padded_w=70, per_location=gen_.num_anchors_per_location()[0]),
                          anchors=anchors[0], cell_anchors=cell,
                          feature_sizes=torch.tensor([list(f.shape[-2:]) for f in feats]).float()))
    return cases


def loss_cases():
    g = gen(30)
    cases = []
    pred = (torch.randn(50, generator=g) * 0.3).requires_grad_()
    target = torch.randn(50, generator=g) * 0.3
    target[:5] = pred[:5].detach() + torch.tensor([1 / 9, -1 / 9, 0.0, 1e-3, -2.0])
    loss = F.smooth_l1_loss(pred, target, beta=1 / 9, reduction="sum") / 13
    loss.backward(torch.tensor(0.7))
    cases.append(case("smooth_l1_beta1_9", dict(beta=1 / 9, divisor=13, dloss=0.7), pred=pred, target=target,
                      loss=loss.reshape(1), dpred=pred.grad))
    logits = (torch.randn(60, generator=g) * 4).requires_grad_()
    logits.data[:4] = torch.tensor([40.0, -40.0, 0.0, 90.0])
    targets = (torch.rand(60, generator=g) > 0.5).float()
    targets[10:14] = torch.tensor([0.25, 0.5, 0.75, 1.0])
    loss = F.binary_cross_entropy_with_logits(logits, targets)
    loss.backward(torch.tensor(1.3))
    cases.append(case("bce_logits", dict(dloss=1.3), logits=logits, targets=targets, loss=loss.reshape(1), dlogits=logits.grad))
    return cases


def nearest_cases():
    g = gen(31)
    cases = []
    for name, (n, c, h, w), (oh, ow) in [("nearest_2x", (2, 3, 4, 5), (8, 10)), ("nearest_2x_minus_1", (1, 3, 4, 5), (7, 9)),
                                          ("nearest_odd_ratio", (1, 2, 5, 3), (7, 8)), ("nearest_same", (1, 2, 3, 3), (3, 3))]:
        x = torch.randn(n, c, h, w, generator=g).requires_grad_()
        y = F.interpolate(x, size=(oh, ow), mode="nearest")
        dout = torch.randn(*y.shape, generator=g)
        y.backward(dout)
        cases.append(case(name, dict(out_h=oh, out_w=ow), input=x, output=y, dout=dout, dinput=x.grad))
    return cases


def conv_transpose_cases():
    g = gen(32)
    cases = []
    for name, (n, c, h, w), o, k in [("conv_transpose_k2s2", (2, 5, 3, 4), 6, 2), ("conv_transpose_k3s3", (1, 3, 2, 2), 4, 3)]:
        x = torch.randn(n, c, h, w, generator=g).requires_grad_()
        weight = (torch.randn(c, o, k, k, generator=g) * 0.3).requires_grad_()
        bias = torch.randn(o, generator=g).requires_grad_()
        y = F.conv_transpose2d(x, weight, bias, stride=k)
        dout = torch.randn(*y.shape, generator=g)
        y.backward(dout)
        cases.append(case(name, dict(kernel=k, out_channels=o), input=x, weight=weight, bias=bias, output=y, dout=dout,
                          dinput=x.grad, dweight=weight.grad, dbias=bias.grad))
    return cases


def max_pool_cases():
    """LastLevelMaxPool: F.max_pool2d(x, 1, 2, 0)."""
    g = gen(33)
    cases = []
    for h, w in [(5, 6), (4, 4)]:
        x = torch.randn(2, 3, h, w, generator=g).requires_grad_()
        y = F.max_pool2d(x, 1, 2, 0)
        dout = torch.randn(*y.shape, generator=g)
        y.backward(dout)
        cases.append(case(f"max_pool_k1s2_{h}x{w}", {}, input=x, output=y, dout=dout, dinput=x.grad))
    return cases


def paste_cases():
    g = gen(34)
    cases = []
    for name, m, (h, w) in [("paste_masks_28", 28, (30, 40)), ("paste_masks_5", 5, (17, 23))]:
        k = 9
        masks = torch.rand(k, 1, m, m, generator=g)
        boxes = random_boxes(g, k, h, w, min_side=0.5, max_side=1.3 * max(h, w), spill=0.3)
        boxes[0] = torch.tensor([3.0, 4.0, 3.0, 4.0])                 # zero size
        boxes[1] = torch.tensor([-10.0, -12.0, -2.0, -3.0])           # outside, above-left
        boxes[2] = torch.tensor([w + 1.0, 2.0, w + 9.0, 9.0])         # outside, right
        boxes[3] = torch.tensor([0.0, 0.0, float(w), float(h)])       # the whole image
        # torchvision raises for some boxes that miss the image (mismatched empty slices); the
        # detector clips boxes to the image before pasting, so those never reach it. Keep the rest.
        ok = []
        for i in range(k):
            try:
                paste_masks_in_image(masks[i:i + 1], boxes[i:i + 1], (h, w), padding=1)
                ok.append(i)
            except RuntimeError:
                print(f"{name}: torchvision cannot paste box {boxes[i].tolist()}; left out")
        masks, boxes = masks[ok], boxes[ok]
        out = paste_masks_in_image(masks, boxes, (h, w), padding=1)
        cases.append(case(name, dict(height=h, width=w, side=m), masks=masks.squeeze(1), boxes=boxes, output=out.squeeze(1)))
    return cases


if __name__ == "__main__":
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    write("detection", roi_align_cases() + multiscale_cases() + level_mapper_cases() + coder_cases() + clip_small_cases()
          + nms_cases() + anchor_cases() + loss_cases() + nearest_cases() + conv_transpose_cases() + max_pool_cases()
          + paste_cases())
