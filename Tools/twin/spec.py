"""Model specs for the PyTorch twin: `backbone[(opt=value,...)][+rkan[(opt=value,...)]]` (docs/design.md).

`parse_spec(text)` accepts and rejects what the Swift `ModelSpec(parsing:)` does, with the same
messages, and `str(spec)` is the same canonical text (options in a fixed order, defaults omitted).
"""
import re
from dataclasses import dataclass, field
from typing import List, Optional

BACKBONES = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "wide_resnet50_2", "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d",
    "resnet101d", "seresnet50", "seresnet101", "ela_l_resnet50",
    "regnet_y_400mf", "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_32gf",
    "densenet121", "densenet161", "densenet169", "densenet201",
]


class SpecError(ValueError):
    """A model spec that cannot be parsed or names something unknown."""

    def __init__(self, spec, problem):
        super().__init__(f"model spec '{spec}': {problem}")


@dataclass
class RKANOptions:
    stages: List[int] = field(default_factory=lambda: [4])  # 1-based stage numbers
    reduce: int = 2                                          # M = C_in // reduce
    inv: Optional[int] = None                                # RKAN-L: M = C_in * inv
    kan: str = "chebyshev"
    degree: int = 3                                          # kan_conv1 (reference spline_order[0])
    degree2: int = 2                                         # kan_conv2 (reference spline_order[1])
    mech: str = "addition"


@dataclass
class ModelSpec:
    backbone: str
    stem: str = "standard"
    width: float = 1.0
    rkan: Optional[RKANOptions] = None

    def __str__(self):
        """Canonical text, defaults omitted (the same as the Swift ModelSpec.description)."""
        def num(x):
            return str(int(x)) if float(x).is_integer() else repr(float(x))
        opts = ([f"stem={self.stem}"] if self.stem != "standard" else []) + \
               ([f"width={num(self.width)}"] if self.width != 1 else [])
        s = self.backbone + (f"({','.join(opts)})" if opts else "")
        if self.rkan is not None:
            r, o = self.rkan, []
            if r.stages != [4]:
                o.append("stages=" + "/".join(map(str, r.stages)))
            if r.inv is not None:
                o.append(f"inv={r.inv}")
            elif r.reduce != 2:
                o.append(f"reduce={r.reduce}")
            o += [f"kan={r.kan}"] if r.kan != "chebyshev" else []
            if (r.degree, r.degree2) != (3, 2):
                o.append(f"degree={r.degree}" if r.degree == r.degree2 else f"degree={r.degree}/{r.degree2}")
            o += [f"mech={r.mech}"] if r.mech != "addition" else []
            s += "+rkan" + (f"({','.join(o)})" if o else "")
        return s


def _split_call(part, spec):
    """`name(k=v,...)` -> (name, [(k, v)])."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(?:\((.*)\))?\s*", part)
    if not m:
        raise SpecError(spec, f"cannot read '{part}'; expected name or name(key=value,...)")
    opts, seen = [], set()
    for item in filter(None, (m.group(2) or "").split(",")):
        kv = [t.strip() for t in item.split("=", 1)]
        if len(kv) != 2 or not kv[0] or not kv[1]:
            raise SpecError(spec, f"option '{item}' is not of the form key=value")
        if kv[0] in seen:
            raise SpecError(spec, f"option '{kv[0]}' given twice")
        seen.add(kv[0])
        opts.append((kv[0], kv[1]))
    return m.group(1), opts


def _int_in(spec, key, v, lo, hi):
    if not re.fullmatch(r"\d+", v) or not lo <= int(v) <= hi:
        raise SpecError(spec, f"{key} must be an integer in {lo}…{hi}, got '{v}'")
    return int(v)


def parse_spec(text):
    """Parses `backbone[(opt=value,...)][+rkan[(opt=value,...)]]` into a ModelSpec.

    Raises SpecError naming the bad backbone or option and the valid choices (as the Swift parser).
    """
    spec = text.strip()
    if spec.count("(") != spec.count(")"):
        raise SpecError(spec, "unbalanced parentheses")
    parts = [p.strip() for p in re.split(r"\+(?![^()]*\))", spec)]
    if not 1 <= len(parts) <= 2 or not parts[0]:
        raise SpecError(spec, "expected backbone[(options)][+rkan[(options)]]")
    name, opts = _split_call(parts[0], spec)
    if name not in BACKBONES:
        raise SpecError(spec, f"unknown backbone '{name}'; valid backbones: {', '.join(BACKBONES)}")
    out = ModelSpec(name)
    for k, v in opts:
        if k == "stem":
            if v not in ("standard", "small"):
                raise SpecError(spec, f"stem must be one of standard, small, got '{v}'")
            out.stem = v
        elif k == "width":
            try:
                w = float(v)
            except ValueError:
                w = -1.0
            if not 0 < w <= 4:
                raise SpecError(spec, f"width must be a number in (0, 4], got '{v}'")
            out.width = w
        else:
            raise SpecError(spec, f"unknown backbone option '{k}'; valid options: stem=standard|small, width=<multiplier>")
    if len(parts) == 1:
        return out
    name, opts = _split_call(parts[1], spec)
    if name != "rkan":
        raise SpecError(spec, f"unknown extension '{name}'; the only one is 'rkan'")
    r = RKANOptions()
    for k, v in opts:
        if k == "stages":
            st = v.split("/")
            if not all(re.fullmatch(r"[1-4]", s) for s in st):
                raise SpecError(spec, f"stages must be stage numbers 1–4 separated by '/', e.g. 4 or 3/4, got '{v}'")
            r.stages = sorted({int(s) for s in st})
        elif k == "reduce":
            r.reduce = _int_in(spec, k, v, 1, 64)
        elif k == "inv":
            r.inv = _int_in(spec, k, v, 1, 16)
        elif k == "degree":
            # A/B: kan_conv1 / kan_conv2; one number D: both (the syntax before 3/2 became the default)
            d = v.split("/")
            if len(d) > 2 or not all(re.fullmatch(r"[1-8]", x) for x in d):
                raise SpecError(spec, f"degree must be A/B (kan_conv1 / kan_conv2, each 1…8, default 3/2) or one degree D for both, got '{v}'")
            r.degree, r.degree2 = int(d[0]), int(d[-1])
        elif k == "kan":
            if v not in ("chebyshev", "rbf", "b_spline"):
                raise SpecError(spec, f"kan must be one of chebyshev, rbf, b_spline, got '{v}'")
            r.kan = v
        elif k == "mech":
            if v not in ("addition", "gating", "se"):
                raise SpecError(spec, f"mech must be one of addition, gating, se, got '{v}'")
            r.mech = v
        else:
            raise SpecError(spec, f"unknown rkan option '{k}'; valid options: stages, reduce, inv, kan, degree, mech")
    out.rkan = r
    return out
