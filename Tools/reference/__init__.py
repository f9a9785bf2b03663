"""The reference's own classes (withray/residualKAN, a local copy the user names; never part of this project)."""
import os
import sys


def use_copy(folder, needed=("KAN_Conv/KANConv.py", "residual_networks/RKAN_ResNet.py"), option="--reference"):
    """Makes the reference copy under `folder` importable; raises FileNotFoundError naming what is missing.

    The one place where a tool extends the import path: the reference's modules import each other by
    top-level name (`KAN_Conv.KANConv`, `residual_networks...`), so its folder must be a search root.
    """
    missing = [p for p in needed if not os.path.isfile(os.path.join(folder, p))]
    if missing:
        raise FileNotFoundError(f"{option} {folder}: not a copy of withray/residualKAN (missing "
                                f"{', '.join(missing)}); pass the folder of a checkout at the commit in Reports/fidelity.md")
    folder = os.path.abspath(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
