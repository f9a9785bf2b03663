#!/usr/bin/env python3
"""The longest Swift functions (func/init bodies, lines from declaration to closing brace) under folders.

    python3 -m Tools.dev.longest_functions                    # Sources, the 5 longest
    python3 -m Tools.dev.longest_functions Sources/Engine Tests --top 20

A reading aid for reviews (where a function has grown past one screen); braces inside string
literals and after `//` are ignored, so the count is a line count, not a parse.
"""
import argparse
import pathlib
import re
import sys

from Tools import ROOT

DECL = re.compile(r'^\s*(?:@\w+\s+)*(?:(?:public|private|fileprivate|internal|static|class|override|mutating|final|'
                  r'@discardableResult)\s+)*(?:func\s+\w+|init\??)\s*[(<]')


def functions(path):
    """[(lines, "file:line", declaration)] of every func/init in one Swift file."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    rows, i = [], 0
    while i < len(lines):
        if DECL.match(lines[i]):
            depth, started, j = 0, False, i
            while j < len(lines):
                s = re.sub(r'"(?:\\.|[^"\\])*"', '""', lines[j].split("//")[0])
                depth += s.count("{") - s.count("}")
                if "{" in s:
                    started = True
                if started and depth <= 0:
                    break
                j += 1
            rows.append((min(j, len(lines) - 1) - i + 1, f"{path}:{i + 1}", lines[i].strip()[:90]))
        i += 1
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", default=[str(pathlib.Path(ROOT, "Sources"))],
                    help="folders searched for *.swift (default: the repository's Sources)")
    ap.add_argument("--top", type=int, default=5, help="how many to print (default: %(default)s)")
    a = ap.parse_args()
    if a.top < 1:
        ap.error(f"--top {a.top}: must be at least 1")
    rows = []
    for folder in map(pathlib.Path, a.folders):
        if not folder.is_dir():
            sys.exit(f"longest_functions: {folder} is not a folder; pass folders that hold Swift sources")
        for f in sorted(folder.rglob("*.swift")):
            rows += functions(f)
    if not rows:
        sys.exit(f"longest_functions: no Swift function under {', '.join(a.folders)}")
    for n, where, decl in sorted(rows, reverse=True)[:a.top]:
        print(n, where, decl)


if __name__ == "__main__":
    main()
