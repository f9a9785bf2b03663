"""Every command-line tool under Tools/ prints its --help.

argparse formats each option's help text with `%`: a bare `%` ("% of the bound") makes `--help`
die with a TypeError, and only when someone asks for help. Two checks, run by `swift test`
(BenchToolsTests):

1. Static, for every tool (PyTorch not needed): each `add_argument(..., help="…")` string literal
   formats under argparse's `%`-mapping.
2. Run, for every tool that starts without the developer packages (PyTorch, torchvision, thop,
   torchmetrics, pycocotools, Pillow, the reference's modules: found by running each with them
   made unimportable; check 1 covers the help texts of the others): `python3 -m MODULE --help`
   exits 0 and prints a usage line.

    python3 -m Tools.dev.check_help          # prints "check_help: ok (N tools, M run)" or the failures
"""
import ast
import collections
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The developer tools' packages (PyPI, never needed by `swift test`) and the reference's own modules.
DEVELOPER_ONLY = ("torch", "torchvision", "thop", "torchmetrics", "pycocotools", "PIL", "KAN_Conv", "residual_networks")


def tools():
    """(module name, path, parsed tree) of every Tools/ source that builds an argparse parser."""
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "Tools")):
        for name in sorted(files):
            if not name.endswith(".py") or name == "__init__.py":
                continue
            path = os.path.join(folder, name)
            text = open(path, encoding="utf-8").read()
            if "ArgumentParser(" not in text or os.path.abspath(path) == os.path.abspath(__file__):
                continue
            module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
            found.append((module, path, ast.parse(text, path)))
    return sorted(found)


def help_literals(tree):
    """(line, text) of every help= string literal of an add_argument call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            for kw in node.keywords:
                if kw.arg == "help" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    yield kw.value.lineno, kw.value.value


# Runs one module as `python3 -m MODULE --help` with the DEVELOPER_ONLY packages made unimportable
# (as on a machine that runs only the tests); exit status 3 when the module needs one.
RUNNER = """
import importlib.abc, runpy, sys
blocked, module = set(sys.argv[1].split(",")), sys.argv[2]
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError("No module named " + repr(name) + " (blocked by check_help)", name=name)
        return None
sys.meta_path.insert(0, Block())
sys.argv = [module, "--help"]
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except ModuleNotFoundError as e:
    if (e.name or "").split(".")[0] in blocked:
        sys.exit(3)
    raise
"""


def main():
    failures, ran = [], 0
    found = tools()
    for module, path, tree in found:
        for line, text in help_literals(tree):
            try:
                text % collections.defaultdict(str)
            except (TypeError, ValueError, KeyError) as e:
                failures.append(f"{os.path.relpath(path, ROOT)}:{line}: help text {text!r} does not format "
                                f"under argparse ({e}); write a literal percent sign as %%")
        try:
            r = subprocess.run([sys.executable, "-c", RUNNER, ",".join(DEVELOPER_ONLY), module], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            failures.append(f"python3 -m {module} --help ran past 60 s (does it parse its arguments first?)")
            continue
        if r.returncode == 3:
            continue   # needs a developer package: its help texts had check 1
        ran += 1
        if r.returncode != 0 or "usage:" not in r.stdout:
            tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
            failures.append(f"python3 -m {module} --help exited {r.returncode}: {tail}")
    if len(found) < 10 or ran < 5:
        failures.append(f"found only {len(found)} argparse tools under Tools/ ({ran} run): is ROOT ({ROOT}) the repository?")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"check_help: ok ({len(found)} tools, {ran} run)")


if __name__ == "__main__":
    main()
