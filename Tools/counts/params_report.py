#!/usr/bin/env python3
"""Writes Reports/params.md: rkan-repro's parameter counts and MACs for every row of the paper's
parameter columns, beside the published counts, with a match mark.

    swift build -c release --product rkan-repro
    python3 -m Tools.counts.params_report [--binary .build/release/rkan-repro] [--out Reports/params.md]

The rows come from the suites, not from this script: every suite of Suites/*.yaml with a
published parameter count (`paper: {params_m: ...}`) is one table, in the suite's order, at the
suite's classes and resolution as `rkan-repro models SUITE --json` reports them. A row's name is
the model as the paper prints it, the YAML comment above its `- id:` line (the suites' convention);
the table cites the published CSV that the suite's header names. A row matches (✓) when thop's count
rounded to 0.01M equals the published value. Exit 1 when a row does not match or is not built.
"""
import argparse
import json
import os
import re
import subprocess
import sys

from Tools import ROOT

NOTES = """\
"params (all)" is every parameter the forward pass uses (PyTorch's `sum(p.numel())`); "params (thop)"
is what `thop.profile` counts, the convention of the published numbers (Reports/published/README.md): thop
skips modules it has no rule for, i.e. the Chebyshev KAN's `polynomial_weight`/`scaler`
(45 for kan_conv1 of degree 3, 36 for kan_conv2 of degree 2, the reference's spline_order = (3, 2); its
`base_linear` counts) and ELA's GroupNorm (2 per channel). A row matches (✓)
when the thop count rounded to 0.01M equals the published value. MACs follow thop's rules at
batch 1."""

CHECKS = """\
Checks by hand (Reports/published/README.md): RKANet-101 = ResNet-101 + 1024·512 + 2·512 + 512·2048 + 2·2048
+ 2·9 = 42,705,060 + 1,578,002 = 44,283,062; RKAN on stage 4 adds the same 1,578,002 to every
ResNet-50/101 variant (ELA-L-50, SENet-50, ResNeXt-101); RKAN-RegNetY-32GF adds 1392·696 + 2·696 +
696·3712 + 2·3712 + 18 = 3,561,218; RKAN-DenseNet-169 (stage 4 input is transition3's 640
channels) adds 640·320 + 2·320 + 320·1664 + 2·1664 + 18 = 741,266. SENet-50's 28.07M needs SE convs
without bias (the reference's RKAN_SENet; timm's seresnet50 with biases has 28.09M). ELA-L-50 has
26,433,064 parameters in all, 26,402,856 by thop."""


class SuiteText:
    """What this report reads from one suite file's text (the binary decodes the rest)."""

    def __init__(self, path):
        self.path = path
        self.text = open(path, encoding="utf-8").read()
        m = re.search(r"^suite:\s*(\S+)", self.text, re.M)
        self.name = m.group(1) if m else os.path.splitext(os.path.basename(path))[0]
        m = re.search(r"^title:\s*(.+)$", self.text, re.M)
        self.title = m.group(1).strip() if m else self.name
        m = re.search(r"(?:published|paper)/([\w.-]+\.csv)", self.text)
        self.csv = m.group(1) if m else None
        self.has_published_params = re.search(r"\bparams_m:", self.text) is not None
        # id -> the model as printed: the comment line right above `- id: X`.
        self.printed = {}
        lines = self.text.split("\n")
        for i, line in enumerate(lines):
            m = re.match(r"^\s*-\s*id:\s*(\S+)", line)
            if m and i > 0:
                c = re.match(r"^\s*#\s*(.+?)\s*$", lines[i - 1])
                if c:
                    self.printed[m.group(1)] = c.group(1)


def models_json(binary, suites, suite):
    p = subprocess.run([binary, "models", suite, "--json", "--suites", suites], cwd=ROOT, capture_output=True, text=True)
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    if not rows:
        raise SystemExit(f"params_report: `{binary} models {suite} --json --suites {suites}` printed no rows "
                         f"(exit {p.returncode}):\n{p.stderr[-2000:]}")
    return rows


def table(suite, rows):
    classes, size = rows[0]["classes"], rows[0]["size"]
    source = f"Reports/published/{suite.csv}" if suite.csv else f"Suites/{os.path.basename(suite.path)}"
    out = [f"## {suite.title}: {source}, {classes} classes, {size}×{size} input", "",
           "| row | spec | params (all) | params (thop) | M (thop) | published M | match | GMACs |",
           "|---|---|---:|---:|---:|---:|:-:|---:|"]
    misses = 0
    for r in rows:
        name = suite.printed.get(r.get("id"), r.get("id") or r["spec"])
        pub = r.get("paper_params_m")
        pub_text = f"{pub:.2f}" if pub is not None else "–"
        if r.get("error"):
            misses += 1
            out.append(f"| {name} | `{r['spec']}` | – | – | – | {pub_text} | ✗ | – |")
            continue
        m = f"{r['params_thop'] / 1e6:.2f}"
        ok = pub is not None and m == pub_text
        misses += 0 if ok else 1
        out.append(f"| {name} | `{r['spec']}` | {r['params']} | {r['params_thop']} | {m} | {pub_text} | "
                   f"{'✓' if ok else '✗'} | {r['macs'] / 1e9:.3f} |")
    return "\n".join(out), misses


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "rkan-repro"))
    ap.add_argument("--suites", default=os.path.join(ROOT, "Suites"), help="folder of the suite files")
    ap.add_argument("--out", default="-", help="the markdown file to write (default: standard output)")
    a = ap.parse_args()
    if not (os.path.isfile(a.binary) and os.access(a.binary, os.X_OK)):
        sys.exit(f"params_report: no executable {a.binary}; build it with: swift build -c release --product rkan-repro")
    if not os.path.isdir(a.suites):
        sys.exit(f"params_report: --suites {a.suites} is not a folder")
    suites = [SuiteText(os.path.join(a.suites, f)) for f in sorted(os.listdir(a.suites)) if f.endswith(".yaml")]
    suites = [s for s in suites if s.has_published_params]
    if not suites:
        sys.exit(f"params_report: no suite in {a.suites} has a published parameter count (paper: {{params_m: ...}})")
    # The paper's order: the CIFAR-100 table before ImageNet's, then any other, by name.
    order = {"cifar100": 0, "imagenet": 1}
    suites.sort(key=lambda s: (order.get(s.name, 2), s.name))
    tables, misses = [], 0
    for s in suites:
        text, miss = table(s, [r for r in models_json(a.binary, a.suites, s.name) if r.get("paper_params_m") is not None])
        tables.append(text)
        misses += miss
    doc = "\n".join(["# Parameter counts: rkan-repro vs the paper", "",
                     "Generated by `python3 -m Tools.counts.params_report` from the suites and `rkan-repro models SUITE --json`.",
                     NOTES + f" Rows that do not match: {misses}.", ""]
                    + [t + "\n" for t in tables] + [CHECKS, ""])
    if a.out == "-":
        sys.stdout.write(doc)
    else:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(doc)
        print(f"wrote {a.out}: {len(tables)} tables, {misses} rows that do not match", file=sys.stderr)
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
