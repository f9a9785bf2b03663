"""torchvision fixtures for the Detection target (developer tool: needs torch and torchvision;
`swift test` only reads the JSON it writes).

Writes Tests/Fixtures/detection/:
- fpn.json: torchvision's FeaturePyramidNetwork + LastLevelMaxPool on four maps of odd sizes
  (every parameter, the five outputs, upstream gradients, and the gradients of inputs and parameters).
- rpn.json: RPNHead on five maps (outputs and gradients), and RegionProposalNetwork.filter_proposals
  on random logits and boxes in train and eval mode, with top-n small enough to truncate and
  box counts on both sides of batched_nms's CPU size rule.
- postprocess.json: RoIHeads.postprocess_detections and transform.resize_boxes.
- transform.json: GeneralizedRCNNTransform (normalise, resize, pad to 32) and resized sizes at 640 / 1066.
- detector.json: MaskRCNN in eval mode from fixed stage outputs on (proposals, detections, masks).
- rpn_loss.json: RPN targets (matcher, encode), compute_loss with the sampler's draws, its gradients; both matchers.
- multiscale.json: MultiScaleRoIAlign forward and backward.
- roi_training.json: the box and mask heads' sampling, targets, losses and gradients.
- train_step.json: one training step after the body: losses, draws, every gradient.
- keys.json: the state-dict keys and shapes of torchvision's MaskRCNN around a ResNet-50 body whose
  stages are wrapped as the reference's RKAN_RCNN wraps them (`layerN.base_layer`), with the
  reference's anchor generator (15 anchors per location) and 81 classes.

Tensors in PyTorch layout (NCHW, OIHW), format of Tools/fixtures/common.py.
Usage: python3 -m Tools.detection.make_model_fixtures
"""
import copy
import json
import math
import os
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads, fastrcnn_loss, maskrcnn_loss, project_masks_on_boxes
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform, _resize_image_and_masks, resize_boxes
from torchvision.ops import poolers
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

from Tools import ROOT
from Tools.fixtures.common import case

OUT = os.path.join(ROOT, "Tests", "Fixtures", "detection")
torch.use_deterministic_algorithms(True)


def write(name, payload):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
    print(f"wrote {path}: {os.path.getsize(path) / 1024:.0f} KiB")


def randomize(module, g, scale=0.2):
    """Every parameter drawn N(0, scale²) so that zero biases do not hide a bias bug."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)


def fpn_cases():
    g = torch.Generator().manual_seed(241)
    fpn = FeaturePyramidNetwork([4, 6, 8, 10], 5, extra_blocks=LastLevelMaxPool())
    randomize(fpn, g)
    sizes = [(13, 17), (7, 9), (4, 5), (2, 3)]
    feats = OrderedDict((str(i), torch.randn(2, c, h, w, generator=g).requires_grad_()) for i, (c, (h, w)) in enumerate(zip([4, 6, 8, 10], sizes)))
    out = fpn(feats)
    douts = [torch.randn(o.shape, generator=g) for o in out.values()]
    torch.autograd.backward(list(out.values()), douts)
    tensors = {f"input{i}": x for i, x in enumerate(feats.values())}
    tensors.update({f"output{i}": y for i, y in enumerate(out.values())})
    tensors.update({f"dout{i}": d for i, d in enumerate(douts)})
    tensors.update({f"dinput{i}": x.grad for i, x in enumerate(feats.values())})
    for k, p in fpn.named_parameters():
        tensors[f"param:{k}"] = p
        tensors[f"grad:{k}"] = p.grad
    return [case("fpn_4levels", dict(out_channels=5), **tensors)]


def rpn_cases():
    g = torch.Generator().manual_seed(242)
    cases = []
    head = RPNHead(6, 15)
    randomize(head, g)
    maps = [torch.randn(2, 6, h, w, generator=g).requires_grad_() for h, w in [(6, 7), (4, 4), (3, 3), (2, 2), (1, 1)]]
    logits, deltas = head(maps)
    dl = [torch.randn(t.shape, generator=g) for t in logits]
    dd = [torch.randn(t.shape, generator=g) for t in deltas]
    torch.autograd.backward(logits + deltas, dl + dd)
    tensors = {}
    for i in range(5):
        tensors.update({f"input{i}": maps[i], f"logits{i}": logits[i], f"deltas{i}": deltas[i], f"dlogits{i}": dl[i],
                        f"ddeltas{i}": dd[i], f"dinput{i}": maps[i].grad})
    for k, p in head.named_parameters():
        tensors[f"param:{k}"] = p
        tensors[f"grad:{k}"] = p.grad
    cases.append(case("rpn_head", dict(anchors=15), **tensors))

    # filter_proposals on two images of different sizes. "large" keeps > 1000 boxes in training,
    # which takes batched_nms's per-level path on CPU; the other runs take the coordinate offsets.
    per_level = [900, 225, 60, 30, 15]
    images = [(70, 90), (64, 80)]
    total = sum(per_level)
    for name, pre, post in [("filter_small", 40, 30), ("filter_large", 1000, 1200)]:
        anchor_gen = AnchorGenerator(((32,),), ((1.0,),))
        rpn = RegionProposalNetwork(anchor_gen, head, 0.7, 0.3, 256, 0.5, dict(training=pre, testing=pre // 2),
                                    dict(training=post, testing=post // 2), 0.7)
        objectness = torch.randn(2 * total, 1, generator=g) * 2
        cx = torch.rand(2, total, generator=g) * 100 - 5
        cy = torch.rand(2, total, generator=g) * 80 - 5
        w = torch.exp(torch.rand(2, total, generator=g) * 4) - 0.99
        h = torch.exp(torch.rand(2, total, generator=g) * 4) - 0.99
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 2)
        t = dict(objectness=objectness.reshape(2, total), boxes=boxes)
        for mode in ["train", "eval"]:
            rpn.train(mode == "train")
            kept, scores = rpn.filter_proposals(boxes, objectness, images, per_level)
            for i in range(2):
                t[f"kept_{mode}{i}"] = kept[i]
                t[f"scores_{mode}{i}"] = scores[i]
            print(f"{name} {mode}: kept {[len(k) for k in kept]}")
        cases.append(case(name, dict(pre_train=pre, post_train=post, pre_eval=pre // 2, post_eval=post // 2), **t))
    return cases


def postprocess_cases():
    """RoIHeads.postprocess_detections on random logits and deltas (two images, 6 classes), with
    few and with many candidate pairs (both sides of batched_nms's CPU size rule), then the boxes
    mapped back to the original image size (transform.resize_boxes)."""
    g = torch.Generator().manual_seed(243)
    cases = []
    heads = RoIHeads(None, None, None, 0.5, 0.5, 512, 0.25, None, 0.05, 0.5, 100)
    for name, k in [("postprocess_few", 40), ("postprocess_many", 400)]:
        sizes = [(60, 80), (50, 70)]
        proposals = []
        for h, w in sizes:
            cx, cy = torch.rand(k, generator=g) * w, torch.rand(k, generator=g) * h
            bw, bh = 2 + torch.rand(k, generator=g) * w / 2, 2 + torch.rand(k, generator=g) * h / 2
            proposals.append(torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
        logits = torch.randn(2 * k, 6, generator=g) * 2.5
        deltas = torch.randn(2 * k, 24, generator=g) * 0.5
        boxes, scores, labels = heads.postprocess_detections(logits, deltas, proposals, sizes)
        t = dict(logits=logits, deltas=deltas, proposals=torch.cat(proposals))
        for i in range(2):
            t.update({f"boxes{i}": boxes[i], f"scores{i}": scores[i], f"labels{i}": labels[i].float(),
                      f"original_boxes{i}": resize_boxes(boxes[i], sizes[i], (97, 130))})
            print(f"{name} image {i}: {len(scores[i])} detections")
        cases.append(case(name, dict(proposals=k, classes=6), **t))
    return cases


def transform_cases():
    """GeneralizedRCNNTransform (eval) on two images of different sizes with a small min/max size,
    and the resized sizes torchvision gives real COCO-like shapes at the reference's 640 / 1066."""
    g = torch.Generator().manual_seed(244)
    # One image enlarged (×2), one reduced (×0.75 by the max-size rule).
    tr = GeneralizedRCNNTransform(20, 30, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).eval()
    images = [torch.rand(3, 10, 14, generator=g), torch.rand(3, 40, 20, generator=g)]
    batch, _ = tr(images)
    # The training transform resizes the targets with the images: boxes by the size ratios, masks nearest.
    targets = [{"boxes": torch.tensor([[1.0, 2.0, 9.5, 8.0], [0.0, 0.0, 14.0, 10.0]]), "labels": torch.tensor([1, 2]),
                "masks": (torch.rand(2, 10, 14, generator=g) > 0.5).to(torch.uint8)},
               {"boxes": torch.tensor([[3.0, 5.0, 17.0, 33.0]]), "labels": torch.tensor([1]),
                "masks": (torch.rand(1, 40, 20, generator=g) > 0.5).to(torch.uint8)}]
    tr.train()
    _, tt = tr(images, [{k: v.clone() for k, v in t.items()} for t in targets])
    shapes = [(480, 640), (427, 640), (640, 360), (100, 1000), (333, 500), (612, 612), (1, 1066)]
    sizes = [list(_resize_image_and_masks(torch.zeros(1, h, w), 640, int(640 * 1.666))[0].shape[-2:]) for h, w in shapes]
    return [case("transform_20_30", dict(min_size=20, max_size=30), image0=images[0], image1=images[1], batch=batch.tensors,
                 image_sizes=torch.tensor(batch.image_sizes).float(), shapes=torch.tensor(shapes).float(),
                 sizes_640=torch.tensor(sizes).float(),
                 boxes0=targets[0]["boxes"], masks0=targets[0]["masks"].float(), boxes1=targets[1]["boxes"], masks1=targets[1]["masks"].float(),
                 resized_boxes0=tt[0]["boxes"], resized_masks0=tt[0]["masks"].float(),
                 resized_boxes1=tt[1]["boxes"], resized_masks1=tt[1]["masks"].float())]


class FixedBody(nn.Module):
    """A backbone whose body is replaced by fixed stage outputs (the FPN is real): the detector
    after the body can then be compared with rkan-repro's on the same C2…C5."""

    def __init__(self, feats, fpn):
        super().__init__()
        self.fpn = fpn
        self.out_channels = fpn.layer_blocks[0][0].out_channels
        self.feats = feats

    def forward(self, x):
        return self.fpn(OrderedDict((str(i), f) for i, f in enumerate(self.feats)))


def detector_cases():
    """MaskRCNN in eval mode after the body: FPN (8 channels), the reference's anchors, RPN, box
    head (16 wide), 5 classes, mask head (12 wide), 10 detections per image; two images resized by
    the transform (24×30 → 32×40, 16×24 → 32×48, padded 32×64); intermediate proposals and the
    final boxes, scores, labels and pasted masks in the original sizes."""
    g = torch.Generator().manual_seed(245)
    feats = [torch.randn(2, c, h, w, generator=g) for c, (h, w) in zip([4, 6, 8, 10], [(8, 16), (4, 8), (2, 4), (1, 2)])]
    fpn = FeaturePyramidNetwork([4, 6, 8, 10], 8, extra_blocks=LastLevelMaxPool())
    anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512),) * 5, aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    model = MaskRCNN(FixedBody(feats, fpn), num_classes=None, min_size=32, max_size=64, rpn_anchor_generator=anchors,
                     rpn_head=RPNHead(8, 15), box_head=TwoMLPHead(8 * 49, 16), box_predictor=FastRCNNPredictor(16, 5),
                     mask_head=MaskRCNNHeads(8, [12, 12, 12, 12], 1), mask_predictor=MaskRCNNPredictor(12, 12, 5),
                     box_detections_per_img=10)
    # Weights N(0, 0.1²): with larger ones the random network is so ill-conditioned that torch's own
    # float32 result drifts from its float64 result by 1e-3 (masks) and NMS picks differ.
    randomize(model, g, 0.1)
    model.eval()
    originals = [(24, 30), (16, 24)]
    images = [torch.rand(3, h, w, generator=g) for h, w in originals]

    def run(net, imgs):
        with torch.no_grad():
            il, _ = net.transform(imgs)
            maps = net.backbone(il.tensors)
            proposals, _ = net.rpn(il, maps)
            dets, _ = net.roi_heads(maps, proposals, il.image_sizes)
            return il, proposals, net.transform.postprocess(dets, il.image_sizes, originals)

    il, proposals, dets = run(model, images)
    # The same network in float64: how far torch's float32 result is from the exact one (the
    # scale of error any float32 implementation has here).
    exact = copy.deepcopy(model).double()
    exact.backbone.feats = [f.double() for f in feats]
    _, p64, d64 = run(exact, [x.double() for x in images])
    drift = {}
    for i in range(2):
        assert torch.equal(dets[i]["labels"], d64[i]["labels"]), "float32 and float64 pick different detections"
        for k, a, b in [("proposals", proposals[i], p64[i]), ("boxes", dets[i]["boxes"], d64[i]["boxes"]),
                        ("scores", dets[i]["scores"], d64[i]["scores"]), ("masks", dets[i]["masks"], d64[i]["masks"])]:
            drift[f"f64_{k}"] = max(drift.get(f"f64_{k}", 0.0), ((a.double() - b).abs().max() / b.abs().max()).item())
    print(f"torch float32 vs float64: {drift}")
    t = {f"feature{i}": f for i, f in enumerate(feats)}
    t.update({f"param:{k}": p for k, p in model.named_parameters()})
    for i in range(2):
        t.update({f"proposals{i}": proposals[i], f"boxes{i}": dets[i]["boxes"], f"scores{i}": dets[i]["scores"],
                  f"labels{i}": dets[i]["labels"].float(), f"masks{i}": dets[i]["masks"].squeeze(1)})
        print(f"detector image {i}: {len(proposals[i])} proposals, {len(dets[i]['scores'])} detections")
    t["image_sizes"] = torch.tensor(il.image_sizes).float()
    return [case("detector_eval", dict(padded_h=il.tensors.shape[-2], padded_w=il.tensors.shape[-1], classes=5,
                                       detections=10, **drift), **t)]


def rpn_loss_cases():
    """RPN training targets and losses: anchors of the reference's generator on a 32×32 batch,
    ground truth of two images, torchvision's assign_targets_to_anchors (Matcher 0.7 / 0.3 with
    low-quality matches) and encode, then compute_loss on random logits and deltas with the
    sampler's draws recorded (rkan-repro draws its own; the test injects these), and the gradients
    of 0.7·loss_objectness + 1.3·loss_rpn_box_reg. Also both matchers on a quality matrix with ties."""
    g = torch.Generator().manual_seed(246)
    gen_ = AnchorGenerator(sizes=((32, 64, 128, 256, 512),) * 5, aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    images = ImageList(torch.zeros(2, 3, 32, 32), [(32, 32), (28, 30)])
    anchors = gen_(images, [torch.zeros(2, 1, s, s) for s in [8, 4, 2, 1, 1]])
    gts = [torch.tensor([[2.0, 3.0, 20.0, 15.0], [15.0, 10.0, 31.0, 30.0], [5.0, 20.0, 11.0, 26.0]]),
           torch.tensor([[0.0, 0.0, 29.0, 27.0], [10.0, 11.0, 14.0, 15.5]])]
    rpn = RegionProposalNetwork(gen_, RPNHead(1, 15), 0.7, 0.3, 256, 0.5, dict(training=2000, testing=1000),
                                dict(training=2000, testing=1000), 0.7)
    labels, matched = rpn.assign_targets_to_anchors(anchors, [{"boxes": b} for b in gts])
    targets = rpn.box_coder.encode(matched, anchors)
    a = anchors[0].shape[0]
    objectness = torch.randn(2 * a, 1, generator=g).requires_grad_()
    deltas = (torch.randn(2 * a, 4, generator=g) * 0.3).requires_grad_()
    sampler, drawn = rpn.fg_bg_sampler, []

    def recording(lbls):
        pos, neg = sampler(lbls)
        drawn.append((pos, neg))
        return pos, neg

    rpn.fg_bg_sampler = recording
    torch.manual_seed(7)
    loss_obj, loss_box = rpn.compute_loss(objectness, deltas, labels, list(targets))
    (0.7 * loss_obj + 1.3 * loss_box).backward()
    pos, neg = drawn[0]
    t = dict(anchors=anchors[0], objectness=objectness.reshape(2, a), deltas=deltas.reshape(2, a, 4),
             loss=torch.stack([loss_obj, loss_box]), dobjectness=objectness.grad.reshape(2, a), ddeltas=deltas.grad.reshape(2, a, 4))
    for i in range(2):
        t.update({f"gt{i}": gts[i], f"labels{i}": labels[i], f"targets{i}": targets[i],
                  f"positive{i}": torch.where(pos[i])[0].float(), f"negative{i}": torch.where(neg[i])[0].float()})
        print(f"rpn loss image {i}: {int(pos[i].sum())} positives, {int(neg[i].sum())} negatives")
    cases = [case("rpn_loss", dict(d_objectness=0.7, d_box=1.3), **t)]
    quality = torch.round(torch.rand(4, 50, generator=g) * 10) / 10
    quality[2] = 0.0                                             # a box that overlaps nothing
    for name, m in [("matcher_rpn", det_utils.Matcher(0.7, 0.3, allow_low_quality_matches=True)),
                    ("matcher_roi", det_utils.Matcher(0.5, 0.5, allow_low_quality_matches=False))]:
        cases.append(case(name, dict(high=m.high_threshold, low=m.low_threshold, low_quality=int(m.allow_low_quality_matches)),
                          quality=quality, matches=m(quality).float()))
    return cases


def multiscale_cases():
    """MultiScaleRoIAlign (7×7, sampling 2) forward and backward on four maps of a padded 64×96
    batch with boxes of every level, two images of different sizes."""
    g = torch.Generator().manual_seed(247)
    sizes = [(64, 90), (50, 96)]
    maps = OrderedDict((str(i), torch.randn(2, 3, 64 // s, 96 // s, generator=g).requires_grad_()) for i, s in enumerate([4, 8, 16, 32]))
    boxes = []
    for h, w in sizes:
        side = torch.exp(torch.empty(9).uniform_(math.log(6), math.log(500), generator=g))
        cx, cy = torch.rand(9, generator=g) * w, torch.rand(9, generator=g) * h
        boxes.append(torch.stack([cx - side / 2, cy - side / 3, cx + side / 2, cy + side / 3], 1))
    y = poolers.MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)(maps, boxes, sizes)
    dout = torch.randn(y.shape, generator=g)
    y.backward(dout)
    t = {f"map{i}": m for i, m in enumerate(maps.values())}
    t.update({f"dmap{i}": m.grad for i, m in enumerate(maps.values())})
    t.update(boxes0=boxes[0], boxes1=boxes[1], output=y, dout=dout)
    return [case("multiscale_7", {}, **t)]


def roi_training_cases():
    """The box and mask heads' training targets and losses: select_training_samples (ground truth
    appended, Matcher 0.5/0.5, 25 % positives; the sampler's draws recorded), then
    fastrcnn_loss and maskrcnn_loss (targets by project_masks_on_boxes) on random logits, with the
    gradients of 0.6·classifier + 1.4·box + 0.9·mask."""
    g = torch.Generator().manual_seed(248)
    # 64 samples per image (torchvision's default is 512) and 14×14 mask logits keep the file small.
    heads = RoIHeads(None, None, None, 0.5, 0.5, 64, 0.25, None, 0.05, 0.5, 100)
    sampler, drawn = heads.fg_bg_sampler, []

    def recording(lbls):
        pos, neg = sampler(lbls)
        drawn.append((pos, neg))
        return pos, neg

    heads.fg_bg_sampler = recording
    h, w, classes = 40, 50, 3
    targets, proposals = [], []
    for n_gt, n_prop in [(3, 700), (2, 300)]:
        cx, cy = torch.rand(n_gt, generator=g) * w, torch.rand(n_gt, generator=g) * h
        bw, bh = 6 + torch.rand(n_gt, generator=g) * 20, 6 + torch.rand(n_gt, generator=g) * 16
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1).clamp(min=0)
        masks = (torch.rand(n_gt, h, w, generator=g) > 0.5).to(torch.uint8)
        targets.append({"boxes": boxes, "labels": torch.randint(1, classes, (n_gt,), generator=g), "masks": masks})
        # Proposals: jittered copies of the ground truth (positives) and random boxes.
        jitter = boxes[torch.randint(0, n_gt, (n_prop // 3,), generator=g)] + torch.randn(n_prop // 3, 4, generator=g) * 2
        rx, ry = torch.rand(n_prop - n_prop // 3, generator=g) * w, torch.rand(n_prop - n_prop // 3, generator=g) * h
        rs = 3 + torch.rand(n_prop - n_prop // 3, generator=g) * 20
        proposals.append(torch.cat([jitter, torch.stack([rx - rs / 2, ry - rs / 2, rx + rs / 2, ry + rs / 2], 1)]))
    torch.manual_seed(8)
    props, matched, labels, reg = heads.select_training_samples([p.clone() for p in proposals], targets)
    s = sum(len(l) for l in labels)
    logits = torch.randn(s, classes, generator=g).requires_grad_()
    deltas = (torch.randn(s, 4 * classes, generator=g) * 0.5).requires_grad_()
    loss_cls, loss_box = fastrcnn_loss(logits, deltas, labels, reg)
    pos = [torch.where(l > 0)[0] for l in labels]
    mask_props = [p[i] for p, i in zip(props, pos)]
    mask_matched = [m[i] for m, i in zip(matched, pos)]
    mask_logits = torch.randn(sum(len(i) for i in pos), classes, 14, 14, generator=g).requires_grad_()
    loss_mask = maskrcnn_loss(mask_logits, mask_props, [t["masks"] for t in targets], [t["labels"] for t in targets], mask_matched)
    (0.6 * loss_cls + 1.4 * loss_box + 0.9 * loss_mask).backward()
    t = dict(logits=logits, deltas=deltas, mask_logits=mask_logits, loss=torch.stack([loss_cls, loss_box, loss_mask]),
             dlogits=logits.grad, ddeltas=deltas.grad, dmask_logits=mask_logits.grad)
    for i in range(2):
        sampled = torch.where(drawn[0][0][i] | drawn[0][1][i])[0]
        mask_targets = project_masks_on_boxes(targets[i]["masks"], mask_props[i], mask_matched[i], 14)
        t.update({f"proposals{i}": proposals[i], f"gt_boxes{i}": targets[i]["boxes"], f"gt_labels{i}": targets[i]["labels"].float(),
                  f"gt_masks{i}": targets[i]["masks"].float(), f"sampled{i}": sampled.float(), f"sample_boxes{i}": props[i],
                  f"sample_labels{i}": labels[i].float(), f"sample_matched{i}": matched[i].float(), f"sample_targets{i}": reg[i],
                  f"mask_targets{i}": mask_targets})
        print(f"roi training image {i}: {len(labels[i])} samples, {int((labels[i] > 0).sum())} positive")
    return [case("roi_training", dict(classes=classes, batch=64, side=14, d_classifier=0.6, d_box=1.4, d_mask=0.9), **t)]


def train_step_cases():
    """One training step of MaskRCNN after the body (the detector_eval network, weights
    N(0, 0.1²)), two images with ground truth: the transformed targets, the five losses, the
    samplers' draws (RPN anchors, box-head candidates), and the gradients of the weighted sum
    0.6·classifier + 1.4·box_reg + 0.9·mask + 0.7·objectness + 1.3·rpn_box_reg with respect to
    C2…C5 and every parameter."""
    g = torch.Generator().manual_seed(249)
    feats = [torch.randn(2, c, h, w, generator=g).requires_grad_() for c, (h, w) in zip([4, 6, 8, 10], [(8, 16), (4, 8), (2, 4), (1, 2)])]
    fpn = FeaturePyramidNetwork([4, 6, 8, 10], 8, extra_blocks=LastLevelMaxPool())
    anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512),) * 5, aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    model = MaskRCNN(FixedBody(feats, fpn), num_classes=None, min_size=32, max_size=64, rpn_anchor_generator=anchors,
                     rpn_head=RPNHead(8, 15), box_head=TwoMLPHead(8 * 49, 16), box_predictor=FastRCNNPredictor(16, 5),
                     mask_head=MaskRCNNHeads(8, [12, 12, 12, 12], 1), mask_predictor=MaskRCNNPredictor(12, 12, 5))
    randomize(model, g, 0.1)
    model.train()
    originals = [(24, 30), (16, 24)]
    images = [torch.rand(3, h, w, generator=g) for h, w in originals]
    targets = []
    for (h, w), boxes, labels in [((24, 30), [[2.0, 3.0, 14.0, 15.0], [10.0, 8.0, 29.0, 23.0]], [1, 3]),
                                  ((16, 24), [[1.0, 2.0, 20.0, 15.0]], [4])]:
        masks = (torch.rand(len(boxes), h, w, generator=g) > 0.4).to(torch.uint8)
        targets.append({"boxes": torch.tensor(boxes), "labels": torch.tensor(labels), "masks": masks})
    drawn = {"rpn": [], "roi": []}
    for key, owner in [("rpn", model.rpn), ("roi", model.roi_heads)]:
        def recording(lbls, sampler=owner.fg_bg_sampler, key=key):
            pos, neg = sampler(lbls)
            drawn[key].append((pos, neg))
            return pos, neg
        owner.fg_bg_sampler = recording
    torch.manual_seed(9)
    il, tt = model.transform(images, targets)
    maps = model.backbone(il.tensors)
    proposals, rpn_losses = model.rpn(il, maps, tt)
    _, det_losses = model.roi_heads(maps, proposals, il.image_sizes, tt)
    losses = {**det_losses, **rpn_losses}
    w = dict(loss_classifier=0.6, loss_box_reg=1.4, loss_mask=0.9, loss_objectness=0.7, loss_rpn_box_reg=1.3)
    sum(w[k] * v for k, v in losses.items()).backward()
    print(f"train step losses: { {k: round(v.item(), 5) for k, v in losses.items()} }")
    t = {f"feature{i}": f for i, f in enumerate(feats)}
    t.update({f"dfeature{i}": f.grad for i, f in enumerate(feats)})
    t.update({f"param:{k}": p for k, p in model.named_parameters()})
    t.update({f"grad:{k}": p.grad for k, p in model.named_parameters()})
    t["losses"] = torch.stack([losses[k] for k in ["loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness", "loss_rpn_box_reg"]])
    for i in range(2):
        t.update({f"gt_boxes{i}": tt[i]["boxes"], f"gt_labels{i}": tt[i]["labels"].float(), f"gt_masks{i}": tt[i]["masks"].float(),
                  f"rpn_positive{i}": torch.where(drawn["rpn"][0][0][i])[0].float(),
                  f"rpn_negative{i}": torch.where(drawn["rpn"][0][1][i])[0].float(),
                  f"roi_sampled{i}": torch.where(drawn["roi"][0][0][i] | drawn["roi"][0][1][i])[0].float()})
    t["image_sizes"] = torch.tensor(il.image_sizes).float()
    return [case("train_step", dict(padded_h=il.tensors.shape[-2], padded_w=il.tensors.shape[-1], classes=5, **w), **t)]


class WrappedStage(nn.Module):
    """A stage as RKAN_RCNN wraps it: the torchvision stage under `base_layer`."""

    def __init__(self, stage):
        super().__init__()
        self.base_layer = stage

    def forward(self, x):
        return self.base_layer(x)


def keys_payload():
    body = torchvision.models.resnet50()
    for name in ["layer1", "layer2", "layer3", "layer4"]:
        setattr(body, name, WrappedStage(getattr(body, name)))
    body.fc = nn.Identity()
    body.avgpool = nn.Identity()
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"}, [256, 512, 1024, 2048], 256)
    anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512),) * 5, aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    model = MaskRCNN(backbone, num_classes=81, rpn_anchor_generator=anchors, min_size=640, max_size=int(640 * 1.666))
    return {"torch": torch.__version__, "torchvision": torchvision.__version__,
            "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()]}


if __name__ == "__main__":
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    write("fpn", fpn_cases())
    write("rpn", rpn_cases())
    write("postprocess", postprocess_cases())
    write("transform", transform_cases())
    write("detector", detector_cases())
    write("rpn_loss", rpn_loss_cases())
    write("multiscale", multiscale_cases())
    write("roi_training", roi_training_cases())
    write("train_step", train_step_cases())
    write("keys", keys_payload())
