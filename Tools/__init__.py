"""rkan-repro's developer tools (Python): one package, run from the repository root as modules.

    python3 -m Tools.parity.twin_parity --help

Sub-packages: twin (the PyTorch twin of the zoo), reference (the reference's own classes),
parity (rkan-repro against either), counts (parameter and MAC counts), fixtures (generators of the
committed test fixtures), runfile (reading run files without rkan-repro), bench (speed against
PyTorch), dev (checks for developers: two builds compared, function lengths). Tools/README.md has
one line per tool. The tests never need torch: they read the committed fixtures.
"""
import os
import shlex
import sys

# The repository root (the folder holding Tools/), whatever the working directory.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module_command(module):
    """A command line (text) that runs `python3 -m module` of this package from any directory."""
    return f"env PYTHONPATH={shlex.quote(ROOT)} {shlex.quote(sys.executable)} -m {module}"
