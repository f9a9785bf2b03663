#!/usr/bin/env bash
# Proves `.ci/run` on a machine where nothing was installed by hand: a fresh Debian 12 (bookworm)
# chroot made by debootstrap, holding only the Swift toolchain (copied from SWIFT_ROOT, default
# /opt/swift) and the Debian packages swift.org lists as the toolchain's own dependencies
# (what the swift:6.x-bookworm image installs). Everything else (OpenBLAS, HDF5, h5py, numpy,
# Fashion-MNIST, …) must come from scripts/setup.sh, which .ci/run calls.
#
#   sudo scripts/pristine-check.sh [BRANCH]        # default: the current branch of this clone
#   sudo scripts/pristine-check.sh --prepare       # only step 1 (bootstrap, toolchain)
#   sudo scripts/pristine-check.sh --quickstart [BRANCH]   # then the README's detection quick start
#   sudo scripts/pristine-check.sh --main-job [--quickstart] [BRANCH]   # the other set-up command,
#                                                  # scripts/main-job.sh, instead of .ci/run
#
# The branch is cloned from this repository into ROOT/ci/rkan-repro with nothing beside it (the
# repository stands on its own, as a user's clone does), then `bash .ci/run` (or with --main-job
# `bash scripts/main-job.sh`) runs inside the chroot with a clean environment. Output:
# ROOT/pristine.log; exit status: that of the set-up command followed by the quick start.
# ROOT/base holds the bootstrapped system with the toolchain (made once, never changed after);
# every check runs in ROOT/run, an overlay on it with an empty upper layer, so packages that
# setup.sh or a previous check installed are never there at the start.
# Environment: PRISTINE_ROOT (default /srv/rkan-pristine), PRISTINE_MIRROR (default http://deb.debian.org/debian),
# SWIFT_ROOT. Needs root, debootstrap (installed when missing) and ~8 GB of disk.
# On 2 shared cores the whole check takes about an hour (a cold release build and the suite).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
prepare_only=0
quickstart=0
first='bash .ci/run'
while [ $# -gt 0 ]; do
    case "$1" in
        --prepare) prepare_only=1; shift ;;
        --quickstart) quickstart=1; shift ;;
        --main-job) first='bash scripts/main-job.sh'; shift ;;
        --*) echo "pristine-check: unknown option '$1' (options: --prepare, --quickstart, --main-job; then a branch)" >&2; exit 64 ;;
        *) break ;;
    esac
done
branch="${1:-$(git -C "$repo" rev-parse --abbrev-ref HEAD)}"
root="${PRISTINE_ROOT:-/srv/rkan-pristine}"
mirror="${PRISTINE_MIRROR:-http://deb.debian.org/debian}"
swift_root="${SWIFT_ROOT:-/opt/swift}"
if [ "$(id -u)" != 0 ]; then echo "pristine-check: needs root (debootstrap, chroot, mount)" >&2; exit 64; fi
if [ ! -x "$swift_root/usr/bin/swift" ]; then
    echo "pristine-check: no Swift toolchain at $swift_root/usr/bin/swift; set SWIFT_ROOT" >&2; exit 64
fi
git -C "$repo" rev-parse --verify -q "$branch^{commit}" >/dev/null || {
    echo "pristine-check: no branch or commit '$branch' in $repo" >&2; exit 64; }

# 1. A minimal bookworm with the toolchain and its documented dependencies (swift.org, Debian
#    12), plus git to clone: ROOT/base, once.
base="$root/base"
if [ ! -e "$root/.base-done" ]; then
    command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
    rm -rf "$base"
    mkdir -p "$root"
    debootstrap --variant=minbase bookworm "$base" "$mirror"
    cp /etc/resolv.conf "$base/etc/resolv.conf"
    mount -t proc proc "$base/proc"
    chroot "$base" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get update -qq
    chroot "$base" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends \
        binutils-gold ca-certificates gcc git libcurl4-openssl-dev libedit-dev libicu-dev libncurses-dev \
        libpython3-dev libsqlite3-dev libstdc++-12-dev libxml2-dev pkg-config tzdata uuid-dev >/dev/null
    chroot "$base" apt-get clean
    umount "$base/proc"
    mkdir -p "$base/opt"
    cp -a "$swift_root" "$base/opt/swift"
    touch "$root/.base-done"
fi
if ((prepare_only)); then echo "pristine-check: $base prepared"; exit 0; fi

# 2. A pristine overlay on it, with the host's /proc, /sys (cgroups: slurmd needs them) and /dev.
run="$root/run"
umount -R -l "$run" 2>/dev/null || true
rm -rf "$root/upper" "$root/work" "$run"
mkdir -p "$root/upper" "$root/work" "$run"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$root/upper,workdir=$root/work" "$run"
cleanup() { umount -R -l "$run" 2>/dev/null || true; }
trap cleanup EXIT
mount --rbind /sys "$run/sys"
mount --rbind /dev "$run/dev"
cp /etc/resolv.conf "$run/etc/resolv.conf"
# Where this machine reaches GitHub only through a local mirror (`url.<dir>.insteadOf` in
# /etc/gitconfig, as on sandboxed build hosts), the chroot gets the same mirror and config, the
# stand-in for the network access a real fresh machine has; nothing else is carried over.
git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | while read -r key value; do
    dir="${key#url.}"; dir="${dir%.insteadof}"
    if [ -d "$dir" ] && [ ! -e "$run$dir" ]; then mkdir -p "$run$(dirname "$dir")"; cp -a "$dir" "$run$dir"; fi
    chroot "$run" git config --system --add "url.$dir.insteadOf" "$value"
done

# 3. A fresh clone, nothing beside it.
mkdir -p "$run/ci"
git clone -q "file://$repo" "$run/ci/rkan-repro"
git -C "$run/ci/rkan-repro" checkout -q "$branch"
echo "pristine-check: $(git -C "$run/ci/rkan-repro" log -1 --format='%h %s') in $run/ci"
log="$root/pristine.log"
# With --quickstart, after the set-up command the commands of the README's detection quick start
# (the first ```sh block under "### Detection"), taken from the clone's README as a user would copy
# them, each one failing the check when it fails; the report they write must exist.
after=true
if ((quickstart)); then
    awk '/^### Detection/ {f = 1} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' "$run/ci/rkan-repro/README.md" \
        | sed 's/[[:space:]]*#.*$//' | grep -v '^[[:space:]]*$' > "$run/ci/quickstart.cmds" || true
    if [ ! -s "$run/ci/quickstart.cmds" ]; then
        echo "pristine-check: no detection quick start (a \`\`\`sh block under '### Detection') in README.md" >&2; exit 1
    fi
    { echo 'set -euxo pipefail'; echo 'cd /ci/rkan-repro'; cat "$run/ci/quickstart.cmds"
      echo 'test -s Reports/coco-smoke.md'; echo 'echo "pristine-check: detection quick start passed"'; } > "$run/ci/quickstart.sh"
    echo "pristine-check: then the README's detection quick start:"; sed 's/^/    /' "$run/ci/quickstart.cmds"
    after='bash /ci/quickstart.sh'
fi

# 4. CI, with nothing from this machine's environment, in its own PID, mount and UTS
#    namespaces (daemons CI starts, such as the local Slurm cluster, end with it; the network
#    is the host's: setup.sh installs from the Debian mirror).
set +e
unshare --mount --pid --uts --fork --propagation private chroot "$run" /bin/bash -c \
    'mount -t proc proc /proc && exec /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
     PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
     bash -c "cd /ci/rkan-repro && '"$first"' && '"$after"'"' 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "pristine-check: ${first#bash }$( ((quickstart)) && echo " and the quick start") exited $status; log $log"
grep -E "Executed [0-9]+ tests|with [0-9]+ tests? skipped|skipped" "$log" | tail -5 || true
exit "$status"
