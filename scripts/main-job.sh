#!/usr/bin/env bash
# Set-up, then the main job on the embedded default data set (Fashion-MNIST): trains the
# baseline/RKAN pair of Suites/fashion-mnist.yaml (profile `default`) and writes
# Reports/fashion-mnist.md. Rerunning resumes and skips finished runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product rkan-repro
.build/release/rkan-repro run fashion-mnist --profile "${PROFILE:-default}"
.build/release/rkan-repro report fashion-mnist --profile "${PROFILE:-default}"
