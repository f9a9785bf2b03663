#!/usr/bin/env bash
# Set-up, then the whole test suite (release build with testability: training tests are
# smoke-sized but need optimised kernels to stay fast).
#
# Everything the tests need is installed or started here: the Debian packages (setup.sh) and a
# one-node Slurm cluster for the Slurm tests (slurm-local.sh, as root or through sudo; stopped
# again at the end if this script started it). A missing prerequisite then fails a test instead
# of skipping it (Tests/TestSupport/Prerequisite.swift). Developers who want a fast loop without
# the cluster or the slow tests run `RKAN_ALLOW_SKIPS=1 swift test --filter …` themselves.
# Arguments are passed to `swift test` (e.g. --filter EngineTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

swift build -c release -Xswiftc -enable-testing --build-tests

sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
started_slurm=0
if ! command -v sinfo >/dev/null 2>&1 || ! sinfo --noheader >/dev/null 2>&1; then
    $sudo_cmd bash scripts/slurm-local.sh start
    started_slurm=1
fi
cleanup() { if [ "$started_slurm" = 1 ]; then $sudo_cmd bash scripts/slurm-local.sh stop || true; fi; }
trap cleanup EXIT
log=$(mktemp -t rkan-test-XXXXXX.log)
set +e
swift test -c release -Xswiftc -enable-testing --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# What was skipped and why (hardware-dependent paths, or RKAN_ALLOW_SKIPS=1 on purpose).
skipped=$(grep -cE ": Test skipped" "$log" || true)
echo "test.sh: ${skipped:-0} test(s) skipped"
grep -E ": Test skipped" "$log" | sed -E 's/^.*: Test skipped:? ?(- )?//' | sort | uniq -c | sed 's/^/  /' || true
rm -f "$log"
exit "$status"
