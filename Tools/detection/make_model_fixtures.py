"""torchvision fixtures for the Detection target (developer tool: needs torch and torchvision;
`swift test` only reads the JSON it writes).

Writes Tests/DetectionTests/Fixtures/:
- fpn.json: torchvision's FeaturePyramidNetwork + LastLevelMaxPool on four maps of odd sizes
  (every parameter, the five outputs, upstream gradients, and the gradients of inputs and parameters).
- rpn.json: RPNHead on five maps (outputs and gradients), and RegionProposalNetwork.filter_proposals
  on random logits and boxes in train and eval mode, with top-n small enough to truncate and
  box counts on both sides of batched_nms's CPU size rule.
- postprocess.json: RoIHeads.postprocess_detections and transform.resize_boxes.
- transform.json: GeneralizedRCNNTransform (normalise, resize, pad to 32) and resized sizes at 640 / 1066.
- keys.json: the state-dict keys and shapes of torchvision's MaskRCNN around a ResNet-50 body whose
  stages are wrapped as the reference's RKAN_RCNN wraps them (`layerN.base_layer`), with the
  reference's anchor generator (15 anchors per location) and 81 classes.

Tensors in PyTorch layout (NCHW, OIHW), format of Tools/fixtures/common.py.
Usage: python3 Tools/detection/make_model_fixtures.py
"""
import json
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform, _resize_image_and_masks, resize_boxes
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from common import case, tensor_entry  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DetectionTests", "Fixtures")
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
    shapes = [(480, 640), (427, 640), (640, 360), (100, 1000), (333, 500), (612, 612), (1, 1066)]
    sizes = [list(_resize_image_and_masks(torch.zeros(1, h, w), 640, int(640 * 1.666))[0].shape[-2:]) for h, w in shapes]
    return [case("transform_20_30", dict(min_size=20, max_size=30), image0=images[0], image1=images[1], batch=batch.tensors,
                 image_sizes=torch.tensor(batch.image_sizes).float(), shapes=torch.tensor(shapes).float(),
                 sizes_640=torch.tensor(sizes).float())]


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
    write("keys", keys_payload())
