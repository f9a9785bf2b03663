"""PyTorch peer for `rkan-repro bench`: img/s of the PyTorch twin of a model spec on the CPU.

    python3 -m Tools.bench.peer_torch --spec 'resnet18(stem=small)' --batch 128 --size 32 \\
        --mode infer --threads 2 [--classes 100] [--warmup 10] [--iters 40] [--repeats 3] \\
        [--memory-format auto|contiguous|channels_last]

train = forward + CrossEntropy + backward + SGD (momentum 0.9) step, in train mode;
infer = eval-mode forward under torch.inference_mode(). Random input and labels. Each repeat
times `iters` steps after `warmup` untimed ones; img/s is the median over repeats.
With --memory-format auto (default) both layouts are measured and the faster one is reported
(`memory_format` names it, `img_s_by_format` gives both). Prints one JSON line.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn

from Tools.twin.model import build_model

FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}


def make_step(spec, mode, batch, size, classes, fmt):
    """One benchmark step of the twin of `spec` on a fixed random batch: train = forward +
    CrossEntropy + backward + SGD (momentum 0.9); infer = eval-mode forward under inference_mode."""
    torch.manual_seed(0)
    model = build_model(spec, classes).to(memory_format=FORMATS[fmt])
    x = torch.randn(batch, 3, size, size).to(memory_format=FORMATS[fmt])
    labels = torch.randint(0, classes, (batch,))
    if mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), labels).backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(x)
    return step


def measure(spec, mode, batch, size, classes, fmt, warmup, iters, repeats):
    """img/s of each repeat for one memory format."""
    step = make_step(spec, mode, batch, size, classes, fmt)
    for _ in range(warmup):
        step()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        rates.append(batch * iters / (time.perf_counter() - t0))
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--mode", choices=["train", "infer"], default="infer")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-format", choices=["auto", *FORMATS], default="auto")
    a = ap.parse_args()
    if min(a.batch, a.size, a.threads, a.classes, a.iters, a.repeats) < 1 or a.warmup < 0:
        ap.error("batch, size, threads, classes, iters and repeats must be positive, warmup non-negative")
    torch.set_num_threads(a.threads)

    formats = list(FORMATS) if a.memory_format == "auto" else [a.memory_format]
    by_format = {f: statistics.median(measure(a.spec, a.mode, a.batch, a.size, a.classes, f,
                                              a.warmup, a.iters, a.repeats)) for f in formats}
    best = max(by_format, key=by_format.get)
    print(json.dumps({
        "spec": a.spec, "mode": a.mode, "batch": a.batch, "size": a.size, "threads": a.threads,
        "img_s": round(by_format[best], 3), "repeats": a.repeats, "torch_version": torch.__version__,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "memory_format": best, "img_s_by_format": {f: round(v, 3) for f, v in by_format.items()},
        "classes": a.classes, "warmup": a.warmup, "iters": a.iters,
    }))


if __name__ == "__main__":
    main()
