"""Comparisons of Tools/parity/reference_parity.py: outputs against the reference (same tolerance policy as
Tools/parity/twin_parity.py) and initialisation statistics of rkan-repro's `init` against the reference's own init.
"""
import math

import numpy as np

THRESHOLDS = {"logits": 1e-5, "loss": 1e-5, "grads": 1e-3}
SIGMAS = 4.0  # init statistics: agreement within this many standard errors


def rel_err(actual, expected):
    """max |a − e| / max |e| (inf on a shape mismatch)."""
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if a.shape != e.shape:
        return math.inf
    return float(np.abs(a - e).max() / max(np.abs(e).max(), 1e-30))


def zero_grad_failure(key, here, float32_runs, scale):
    """The failure message of a gradient that is zero in exact arithmetic, or None. float32 leaves
    rounding noise there, bounded like every other gradient: by max(1e-5 × the model's largest
    gradient, 2 × the largest value the float32 passes of the truth model (`float32_runs`: its own
    pass and its perturbed ones) leave on that key)."""
    noise = max(float(np.abs(np.asarray(g, np.float64)).max()) for g in float32_runs)
    got = float(np.abs(np.asarray(here, np.float64)).max())
    if got <= max(1e-5 * scale, 2 * noise):
        return None
    return f"grad {key}: exactly zero in float64 but {got:.2e} here (float32 truth model: {noise:.2e}, model scale {scale:.2e})"


def compare_outputs(actual_eval, actual_train, expected):
    """(logits err, loss err, worst grad err, worst key, failures) against the reference.

    `expected` holds "eval" and "eval64" (float32 / float64 eval logits), "train" (float32 train pass),
    "truth" (float64 train pass) and "perturbed" (float32 train passes on inputs perturbed by 1e-6): the
    bounds are max(threshold, 2 × the reference's own float32 noise), as in Tools/parity/twin_parity.py.
    """
    fails = []
    e_logits = rel_err(actual_eval["logits"], expected["eval64"])
    floor = rel_err(expected["eval"], expected["eval64"])
    if not e_logits <= max(THRESHOLDS["logits"], 2 * floor):
        fails.append(f"eval logits rel err {e_logits:.2e} vs float64 (reference float32: {floor:.1e})")
    train, truth, pert = expected["train"], expected["truth"], expected["perturbed"]
    loss_floor = max([abs(train["loss"] - truth["loss"])] + [abs(p["loss"] - train["loss"]) for p in pert])
    e_loss = abs(actual_train.get("loss", math.inf) - truth["loss"])
    if not e_loss <= max(THRESHOLDS["loss"], 2 * loss_floor):
        fails.append(f"loss abs err {e_loss:.2e} vs float64 {truth['loss']:.7f} (float32 noise {loss_floor:.1e})")
    grads = actual_train.get("grads", {})
    scale = max(float(np.abs(np.asarray(e, np.float64)).max()) for e in truth["grads"].values())
    worst, worst_key, gfloor = 0.0, "-", 0.0
    for k, e in truth["grads"].items():
        if k not in grads:
            fails.append(f"grad {k}: missing")
            continue
        if float(np.abs(np.asarray(e, np.float64)).max()) < 1e-8 * scale:   # zero in exact arithmetic
            fail = zero_grad_failure(k, grads[k], [train["grads"][k]] + [p["grads"][k] for p in pert], scale)
            if fail:
                fails.append(fail)
            continue
        err = rel_err(grads[k], e)
        gfloor = max([gfloor, rel_err(train["grads"][k], e)] + [rel_err(p["grads"][k], train["grads"][k]) for p in pert])
        if not err <= worst:
            worst, worst_key = err, k
    if not worst <= max(THRESHOLDS["grads"], 2 * gfloor):
        fails.append(f"worst grad {worst_key}: rel err {worst:.2e} exceeds max(1e-3, 2 × float32 noise {gfloor:.1e})")
    extra = sorted(set(grads) - set(truth["grads"]))
    if extra:
        fails.append(f"gradients of tensors the reference does not use: {extra[:5]}")
    return e_logits, e_loss, worst, f"{worst_key} (f32 noise {gfloor:.1e})", fails


def moments(x):
    """(n, mean, std, excess kurtosis) of the flattened samples."""
    x = np.asarray(x, np.float64).ravel()
    m, s = float(x.mean()), float(x.std())
    k = float(((x - m) ** 4).mean() / s ** 4 - 3) if s > 0 else 0.0
    return x.size, m, s, k


def compare_init(repro, reference):
    """Failures of rkan-repro's init samples against the reference's (per key: list of sample arrays).

    Constant tensors (BN weights and biases, running statistics, the KAN scaler) must be equal.
    Otherwise mean and std must agree within SIGMAS standard errors, and (with at least 200 samples on
    each side) the excess kurtosis too: normal 0, uniform −1.2, which tells the families apart.
    """
    fails = []
    for key, b_draws in reference.items():
        if key not in repro:
            continue
        a, b = np.concatenate([np.ravel(d) for d in repro[key]]), np.concatenate([np.ravel(d) for d in b_draws])
        na, ma, sa, ka = moments(a)
        nb, mb, sb, kb = moments(b)
        if sb == 0:
            if not (sa == 0 and ma == mb):
                fails.append(f"{key}: reference constant {mb:g}, rkan-repro mean {ma:.4g} std {sa:.3g}")
            continue   # (a one-element tensor of one draw looks constant: it fails here and is redrawn)
        se_mean = math.sqrt(sa ** 2 / na + sb ** 2 / nb)
        # The standard error of a std needs the kurtosis; from fewer than 30 values (a KAN bias, one per
        # layer and draw) it is no estimate, so take the normal's (k + 2 = 2, wider than a uniform's 0.8).
        ka_, kb_ = (ka, kb) if min(na, nb) >= 30 else (0.0, 0.0)
        se_std = math.sqrt(sa ** 2 * max(ka_ + 2, 0.1) / (4 * na) + sb ** 2 * max(kb_ + 2, 0.1) / (4 * nb))
        if abs(ma - mb) > SIGMAS * se_mean or abs(sa - sb) > SIGMAS * se_std:
            fails.append(f"{key}: mean {ma:.4g} vs {mb:.4g}, std {sa:.4g} vs {sb:.4g} (n {na}/{nb})")
        elif min(na, nb) >= 200 and abs(ka - kb) > SIGMAS * math.sqrt(24 / na + 24 / nb):
            fails.append(f"{key}: excess kurtosis {ka:.2f} vs {kb:.2f} (normal 0, uniform -1.2; n {na}/{nb})")
    return fails
