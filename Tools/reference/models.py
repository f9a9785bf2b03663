"""rkan-repro model specs as the reference's own classes (withray/residualKAN), and their state-dict keys.

The reference is never part of this project: `load_reference(DIR)` imports it from a local copy (see
Reports/fidelity.md for the commit). `build_reference(spec, classes)` builds the class the README
tables used, with the notebook's arguments (training.ipynb@22e50367: `spline_order, grid_size =
(3, 2), (3, 2)`, `reduce_factor = [2, 2, 2, 2]`, `kan_type = "chebyshev"`, mechanisms with "addition" on
the RKAN stages; a baseline is the same class with mechanisms [None] * 4, as the notebook builds it).

Keys. The reference class builds RKAN modules for all four stages (and gate/SE convs) whatever the
configuration; rkan-repro writes only the modules its forward pass uses. `used_keys(model, x)` finds
the keys of the modules a forward pass calls. `KeyMap` translates between the two namings:
- "current" (rkan-repro's naming): the reference's keys, KAN tensors `polynomial_weight`/`scaler`;
  a baseline drops the class attribute (`resnet.`, `densenet.`, ...), except resnet101d (RKANet_D keeps
  its modules at top level).
- "legacy" (the naming of rkan-repro's older weight files, which `forward --weights` still reads): KAN tensors `chebyshev_weight`/`chebyshev_scaler`; ResNeXt/WRN
  under `resnet.`; resnet101d with timm's keys (`conv1.N` stem, `layer1.0.downsample.1/.2`).
"""
import importlib
import inspect

import torch

from Tools.reference import use_copy
from Tools.twin.spec import parse_spec

# backbone prefix -> (module, class, attribute holding the backbone (None: top level), version name)
FAMILIES = [
    ("resnext", "residual_networks.RKAN_ResNeXt", "RKANeXt", "resnext", lambda b: b),
    ("wide_resnet", "residual_networks.RKAN_WideResNet", "RKAN_WideResNet", "wideresnet", lambda b: b),
    ("seresnet", "residual_networks.RKAN_SENet", "RKAN_SENet", "resnet", lambda b: b.replace("seresnet", "senet")),
    ("ela_l_resnet", "residual_networks.RKAN_ELA", "RKAN_ELA", "resnet", lambda b: b.replace("ela_l_resnet", "ela")),
    ("resnet101d", "residual_networks.RKAN_ResNet_D", "RKANet_D", None, lambda b: "resnetd101"),
    ("resnet", "residual_networks.RKAN_ResNet", "RKANet", "resnet", lambda b: b),
    ("regnet", "residual_networks.RKAN_RegNet", "RKAN_RegNet", "regnet", lambda b: b),
    ("densenet", "residual_networks.RKAN_DenseNet", "RKAN_DenseNet", "densenet", lambda b: b),
]


class Unsupported(Exception):
    """A spec the reference has no class or argument for (e.g. stem=small, width != 1)."""


def load_reference(folder):
    """Makes the reference copy under `folder` importable; raises FileNotFoundError naming what is missing."""
    use_copy(folder)


def family(backbone):
    for prefix, module, cls, attr, version in FAMILIES:
        if backbone.startswith(prefix):
            return module, cls, attr, version(backbone)
    raise Unsupported(f"no reference class for backbone '{backbone}'")


def reference_arguments(spec):
    """(module, class name, attribute, kwargs) of the reference class for `spec` (a ModelSpec)."""
    if spec.stem != "standard":
        raise Unsupported("stem=small: the reference classes have only the standard stem")
    if spec.width != 1:
        raise Unsupported(f"width={spec.width}: the reference classes have no width option")
    module, cls, attr, version = family(spec.backbone)
    kw = {"version": version, "kan_type": "chebyshev", "pretrained": False, "reduce_factor": [2, 2, 2, 2],
          "mechanisms": [None] * 4, "spline_order": (3, 2), "grid_size": (3, 2), "inv_bottleneck": False, "inv_factor": 4}
    r = spec.rkan
    if r is not None:
        kw["mechanisms"] = [r.mech if i + 1 in r.stages else None for i in range(4)]
        kw["kan_type"] = r.kan
        kw["reduce_factor"] = [r.reduce] * 4
        kw["spline_order"] = (r.degree, r.degree2)
        if r.inv is not None:
            kw["inv_bottleneck"], kw["inv_factor"] = True, r.inv
    return module, cls, attr, kw


def build_reference(spec, classes, seed=None):
    """(model, attribute) of the reference class for `spec` (text or ModelSpec) with `classes` outputs.

    Arguments a class does not take must be at the value it hard-codes (RKAN_SENet and RKANet_D take no
    spline_order/inv arguments and hard-code degrees 3/2 and the bottleneck); otherwise Unsupported.
    """
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    module, cls, attr, kw = reference_arguments(spec)
    klass = getattr(importlib.import_module(module), cls)
    accepted = inspect.signature(klass.__init__).parameters
    defaults = {"spline_order": (3, 2), "grid_size": (3, 2), "inv_bottleneck": False, "inv_factor": 4, "kan_type": "chebyshev"}
    for k in list(kw):
        if k not in accepted:
            if kw[k] != defaults.get(k):
                raise Unsupported(f"{cls} has no '{k}' argument (it hard-codes {defaults.get(k)}), spec asks {kw[k]}")
            del kw[k]
    if seed is not None:
        torch.manual_seed(seed)
    return klass(num_classes=classes, **kw), attr


def used_keys(model, x):
    """State-dict keys of the modules that a train-mode forward pass on `x` calls (their own tensors)."""
    called, hooks = set(), []
    for name, m in model.named_modules():
        hooks.append(m.register_forward_hook(lambda mod, i, o, name=name: called.add(name)))
    was = model.training
    model.train()
    with torch.no_grad():
        model(x)
    model.train(was)
    for h in hooks:
        h.remove()
    keys = set()
    for name, m in model.named_modules():
        if name in called:
            prefix = f"{name}." if name else ""
            keys |= {prefix + k for k in list(m._parameters) + list(m._buffers) if getattr(m, k, None) is not None}
    return keys


class KeyMap:
    """Reference key <-> rkan-repro key for one spec, in the "current" or "legacy" naming."""

    def __init__(self, spec, attr, naming="current"):
        self.spec = parse_spec(spec) if isinstance(spec, str) else spec
        self.attr, self.naming = attr, naming

    def to_repro(self, key):
        k = key
        kan = {"polynomial_weight": "chebyshev_weight", "scaler": "chebyshev_scaler"}
        leaf = k.rsplit(".", 1)[-1]
        if self.naming == "legacy" and ".convs.0.conv." in k and leaf in kan:
            k = k[: -len(leaf)] + kan[leaf]
        if self.attr is not None and self.spec.rkan is None:
            k = k[len(self.attr) + 1:] if k.startswith(self.attr + ".") else k
        elif self.naming == "legacy" and self.attr in ("resnext", "wideresnet") and k.startswith(self.attr + "."):
            k = "resnet." + k[len(self.attr) + 1:]
        if self.naming == "legacy" and self.spec.backbone == "resnet101d":
            if k.startswith("stem."):
                k = "conv1." + k[len("stem."):]
            elif k.startswith("layer1.0.downsample."):
                i, rest = k[len("layer1.0.downsample."):].split(".", 1)
                k = f"layer1.0.downsample.{int(i) + 1}.{rest}"
        return k

    def state_to_repro(self, state, keys):
        """{rkan-repro key: tensor} of the reference `state` restricted to `keys` (reference names)."""
        return {self.to_repro(k): state[k] for k in state if k in keys}

    def inverse(self, keys):
        """{rkan-repro key: reference key} over the reference `keys`."""
        return {self.to_repro(k): k for k in keys}


def count(model):
    return sum(p.numel() for p in model.parameters())


__all__ = ["KeyMap", "Unsupported", "build_reference", "load_reference", "used_keys", "count"]
