"""The HDF5 files of `rkan-repro forward` / `init` and one PyTorch pass (developer tool: needs torch, h5py).

Files (docs/design.md, CLI section):
  W.h5  /weights/<state-dict key>: float32 in PyTorch shapes (int64 for num_batches_tracked)
  X.h5  /input float32 (N, C, H, W); /labels int64 (N) and attribute label_smoothing (for --grad)
  Y.h5  /logits (N, classes); with --grad also /loss (scalar, mean cross-entropy) and /grads/<key>
Shared by Tools/parity/reference_parity.py (the reference's classes) and Tools/twin/forward.py (the twin).
"""
import h5py
import numpy as np
import torch
import torch.nn as nn


def write_weights(path, state_dict):
    """Writes every state-dict entry to /weights/<key> (float32, int64 for integer buffers)."""
    with h5py.File(path, "w") as f:
        g = f.create_group("weights")
        for k, v in state_dict.items():
            a = v.detach().cpu().numpy()
            g.create_dataset(k, data=a.astype(np.int64 if a.dtype.kind in "iu" else np.float32))


def read_group(path, group):
    """{key: numpy array} of the datasets under `group` (an empty dict when the group is absent)."""
    with h5py.File(path, "r") as f:
        if group not in f:
            return {}
        return {k: np.asarray(d[()]) for k, d in f[group].items()}


def load_weights(model, path):
    """Loads /weights of `path` into `model`, demanding exactly the model's keys and shapes.

    Raises ValueError naming the missing, unexpected or mis-shaped keys.
    """
    w = read_group(path, "weights")
    sd = model.state_dict()
    missing, extra = sorted(set(sd) - set(w)), sorted(set(w) - set(sd))
    bad = [f"{k}: file {w[k].shape} vs model {tuple(sd[k].shape)}"
           for k in sd if k in w and tuple(w[k].shape) != tuple(sd[k].shape)]
    if missing or extra or bad:
        raise ValueError(f"{path}: weights do not fit the model: missing {missing[:5]}, unexpected {extra[:5]}, "
                         f"shape mismatch {bad[:5]}")
    model.load_state_dict({k: torch.from_numpy(w[k]).to(sd[k].dtype) for k in sd})


def write_input(path, x, labels=None, label_smoothing=0.0):
    with h5py.File(path, "w") as f:
        f.create_dataset("input", data=x.detach().cpu().numpy().astype(np.float32))
        if labels is not None:
            f.create_dataset("labels", data=labels.cpu().numpy().astype(np.int64))
            f.attrs["label_smoothing"] = float(label_smoothing)


def read_input(path):
    """(input tensor, labels tensor or None, label smoothing) from an X.h5 file."""
    with h5py.File(path, "r") as f:
        x = torch.from_numpy(np.asarray(f["input"][()], dtype=np.float32))
        labels = torch.from_numpy(np.asarray(f["labels"][()], dtype=np.int64)) if "labels" in f else None
        ls = float(f.attrs.get("label_smoothing", 0.0))
    return x, labels, ls


def run_forward(model, x, labels=None, label_smoothing=0.0, grad=False, names=None):
    """One pass: eval-mode logits, or with `grad` train-mode logits, mean CE loss and every parameter's gradient.

    `names` maps the model's parameter names to the names to report (default: unchanged); parameters
    it leaves out are not reported. Returns {"logits", "loss" (grad only), "grads" {key: array} (grad only)}.
    """
    if not grad:
        model.eval()
        with torch.no_grad():
            return {"logits": model(x).numpy()}
    if labels is None:
        raise ValueError("--grad needs /labels in the input file")
    model.train()
    model.zero_grad(set_to_none=True)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    loss.backward()
    grads = {}
    for k, p in model.named_parameters():
        if names is not None and k not in names:
            continue
        grads[names[k] if names is not None else k] = (p.grad if p.grad is not None else torch.zeros_like(p)).numpy().copy()
    return {"logits": logits.detach().numpy(), "loss": float(loss.item()), "grads": grads}


def write_output(path, result):
    with h5py.File(path, "w") as f:
        f.create_dataset("logits", data=result["logits"].astype(np.float32))
        if "loss" in result:
            f.create_dataset("loss", data=np.float32(result["loss"]))
            g = f.create_group("grads")
            for k, v in result["grads"].items():
                g.create_dataset(k, data=v.astype(np.float32))


def read_output(path):
    """{"logits", and when present "loss" (float) and "grads" ({key: array})} from a Y.h5 file."""
    with h5py.File(path, "r") as f:
        out = {"logits": np.asarray(f["logits"][()])}
        if "loss" in f:
            out["loss"] = float(np.asarray(f["loss"][()]).reshape(-1)[0])
        if "grads" in f:
            out["grads"] = {k: np.asarray(d[()]) for k, d in f["grads"].items()}
    return out
