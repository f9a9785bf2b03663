"""The `rkan-repro forward` parity interface, done by the PyTorch twin (developer tool: needs torch, h5py).

Files (docs/design.md, CLI section):
  W.h5  /weights/<state-dict key>: float32 in PyTorch shapes (int64 for num_batches_tracked)
  X.h5  /input float32 (N, C, H, W); /labels int64 (N) and attribute label_smoothing (for --grad)
  Y.h5  /logits (N, classes); with --grad also /loss (scalar, mean cross-entropy) and /grads/<key>
Without --grad the model runs in eval mode (BN running statistics), with --grad in train mode.

    python3 -m Tools.twin.forward [forward] --model SPEC --classes N [--in-channels C] \\
        --weights W.h5 --input X.h5 --output Y.h5 [--grad]

It takes the same arguments as `rkan-repro forward`, so `python3 -m Tools.parity.twin_parity --twin` can run it in the
binary's place to check the files and the comparison themselves.
"""
import argparse
import sys

from Tools.h5io import load_weights, read_input, run_forward, write_output
from Tools.twin.model import build_model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--in-channels", type=int, default=None)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--grad", action="store_true")
    argv = sys.argv[1:]
    a = ap.parse_args(argv[1:] if argv[:1] == ["forward"] else argv)  # `forward` optional, as in rkan-repro
    x, labels, ls = read_input(a.input)
    model = build_model(a.model, a.classes, a.in_channels or x.shape[1])
    load_weights(model, a.weights)
    write_output(a.output, run_forward(model, x, labels, ls, a.grad))


if __name__ == "__main__":
    main()
