"""Finds the ReLU kinks that make train-mode gradient parity ill-conditioned, in float64.

For the case `Tools/parity/twin_parity.py` builds for SPEC (same seed, PARITY_CLASSES / PARITY_BATCH /
PARITY_SIZE), runs the PyTorch twin in float64 and lists the ReLU inputs closest to zero relative
to their layer's largest input; then recomputes the float64 gradients with each of the nearest
ones treated as lying on the other side of zero (ReLU'(x) flipped for that one element, the
forward value unchanged to within |x|) and prints the resulting gradient error (max abs err /
max abs, worst tensor), next to PyTorch's own float32 error.

An input within float32 rounding of zero lands on either side depending on summation order, so
any float32 implementation (another OpenBLAS core, im2col vs Winograd, PyTorch itself) may flip
it; when the printed error of a flip equals the error `twin_parity` reports for a binary, that
flip is the whole difference. Gradients that looked wrong for Winograd on the Prescott core were such
flips (resnet18(stem=small), 100 classes, 64², batch 4: one input of −2.8e-7 gives exactly the
6.05e-3 at layer2.1.conv1.weight that three different core/algorithm pairs reported).

    PARITY_CLASSES=100 PARITY_BATCH=4 PARITY_SIZE=64 python3 -m Tools.parity.relu_kinks 'resnet18(stem=small)'
"""
import argparse

import numpy as np
import torch
import torch.nn as nn

from Tools.parity import twin_parity as parity
from Tools.twin.model import build_model


class FlipReLU(torch.autograd.Function):
    """ReLU whose derivative is flipped at one flat index (None: plain ReLU)."""

    @staticmethod
    def forward(ctx, x, flip):
        mask = (x > 0).to(x.dtype)
        if flip is not None:
            mask.view(-1)[flip] = 1 - mask.view(-1)[flip]
        ctx.save_for_backward(mask)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None


class Recorded(nn.Module):
    """Stands in for nn.ReLU: records each call's input, flips one element on one call."""

    def __init__(self, calls, flip):
        super().__init__()
        self.calls, self.flip = calls, flip

    def forward(self, x):
        i = len(self.calls)
        self.calls.append(x.detach())
        return FlipReLU.apply(x, self.flip[1] if self.flip and self.flip[0] == i else None)


def gradients(spec, state, x, labels, dtype, flip=None):
    model = build_model(spec, parity.CLASSES, 3).to(dtype)
    model.load_state_dict({k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()})
    calls = []

    def swap(m):
        for name, child in m.named_children():
            if isinstance(child, nn.ReLU):
                setattr(m, name, Recorded(calls, flip))
            else:
                swap(child)
    swap(model)
    model.train()
    loss = nn.functional.cross_entropy(model(x.to(dtype)), labels, label_smoothing=parity.LABEL_SMOOTHING)
    loss.backward()
    return {k: p.grad.double().numpy() for k, p in model.named_parameters()}, calls


def worst(grads, truth):
    err = {k: np.abs(grads[k] - truth[k]).max() / max(np.abs(truth[k]).max(), 1e-30) for k in truth}
    k = max(err, key=err.get)
    return f"{err[k]:.2e} {k}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", nargs="?", default="resnet18(stem=small)", help="model spec (default: %(default)s)")
    ap.add_argument("count", nargs="?", type=int, default=3, help="how many of the nearest kinks to flip (default: %(default)s)")
    a = ap.parse_args()
    spec, count = a.spec, a.count
    model, x, labels = parity.make_case(spec, 0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    truth, calls = gradients(spec, state, x, labels, torch.float64)
    near = []
    for i, a in enumerate(calls):
        v = a.abs().view(-1)
        j = int(v.argmin())
        near.append((float(v[j]) / float(a.abs().max()), i, j, float(a.view(-1)[j])))
    near.sort()
    f32, _ = gradients(spec, state, x, labels, torch.float32)
    print(f"{spec}: PyTorch float32 vs float64 gradients: {worst(f32, truth)}")
    for rel, i, j, value in near[:count]:
        flipped, _ = gradients(spec, state, x, labels, torch.float64, flip=(i, j))
        print(f"ReLU call {i}, element {j}: input {value:.2e} ({rel:.1e} of the layer's largest); "
              f"flipped: {worst(flipped, truth)}")


if __name__ == "__main__":
    main()
