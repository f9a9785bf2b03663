#!/usr/bin/env bash
# Set-up, then the whole test suite (release build with testability: training tests are
# smoke-sized but need optimised kernels to stay fast).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
