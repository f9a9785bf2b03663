#!/usr/bin/env bash
# Installs what rkan-repro needs on Debian/Ubuntu, idempotently: only missing packages are
# installed (after one `apt-get update`). Swift itself (6.x) must already be on PATH.
set -euo pipefail

# python3-h5py and python3-numpy: the h5py interop tests (Tests/TestSupport/H5pyPython.swift
# uses /usr/bin/python3 unless RKAN_PYTHON names another interpreter with h5py).
# libopenmpi-dev and openmpi-bin: the CMPI target (always built) and `mpirun` for data-parallel
# runs and their tests (Tests/CLITests/DataParallelTests.swift).
packages=(libopenblas-dev libhdf5-dev hdf5-tools libjpeg-dev zlib1g-dev pkg-config dataset-fashion-mnist
          python3 python3-h5py python3-numpy libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "setup: all packages present"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "setup: swift is not on PATH; install Swift 6 from swift.org and rerun" >&2
    exit 1
fi
