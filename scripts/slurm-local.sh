#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for trying `rkan-repro plan --slurm` and for
# the Slurm integration tests (Tests/CLITests/SlurmTests.swift).
#
#   scripts/slurm-local.sh start    install slurm-wlm + munge if missing, write a minimal
#                                   slurm.conf for this host, start munged, slurmctld and
#                                   slurmd, wait until `sinfo` shows the node idle
#   scripts/slurm-local.sh status   daemons and `sinfo`
#   scripts/slurm-local.sh stop     stop the three daemons (by their pid files)
#
# Runs as root (as CI does). Idempotent: `start` on a running cluster only checks it, `stop` on a
# stopped one does nothing. The node is $(hostname -s) at 127.0.0.1 with $(nproc) CPUs in
# partition `debug`; no cgroups are needed (proctrack/linuxproc, task/none), no accounting database.
# Logs: /var/log/slurm/{slurmctld,slurmd}.log.
set -euo pipefail

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
LOG_DIR=/var/log/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
MUNGE_KEY=/etc/munge/munge.key
WAIT_S=${SLURM_LOCAL_WAIT_S:-60}

say() { echo "slurm-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

# True when the pid file names a live process.
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

need_root() { [[ $(id -u) == 0 ]] || die "run as root (it installs packages and starts system daemons)"; }

install_packages() {
    # libpmix-dev: srun's mpi/pmix plugin dlopens pmix2/lib/libpmix.so when slurmd starts, so it must
    # be there before the daemons (a data-parallel task started with `srun --mpi=pmix`); installed
    # later, the plugin stays unloaded and every step launch times out.
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null && [[ -e /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so ]]; then
        return
    fi
    say "installing slurm-wlm, munge and libpmix-dev with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge libpmix-dev >/dev/null
}

start_munge() {
    if alive $MUNGE_PID; then return; fi
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    if [[ ! -s $MUNGE_KEY ]]; then
        say "generating $MUNGE_KEY"
        dd if=/dev/urandom of=$MUNGE_KEY bs=1024 count=1 status=none
    fi
    # munged insists that its key and folders belong to the user it runs as and are private.
    local user=root
    id munge >/dev/null 2>&1 && user=munge
    chown "$user:" /etc/munge $MUNGE_KEY /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge /var/lib/munge /var/log/munge
    chmod 0755 /run/munge
    chmod 0400 $MUNGE_KEY
    if [[ $user == root ]]; then munged --force; else runuser -u munge -- munged; fi
    munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # What `free -m` shows as total (read directly: procps is not on minimal images). slurmd
    # drains a node whose RealMemory is above what it measures, so never round up.
    mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    mkdir -p $CONF_DIR $LOG_DIR /var/spool/slurmctld /var/spool/slurmd
    cat > $CONF.new <<EOF
# Written by scripts/slurm-local.sh: a single-node cluster on $host.
ClusterName=rkanlocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    if [[ -f $CONF ]] && cmp -s $CONF $CONF.new; then rm $CONF.new; else mv $CONF.new $CONF; fi
}

# Waits until `sinfo` lists this host as idle (or mixed/allocated: it works, just busy).
wait_idle() {
    local host state i
    host=$(hostname -s)
    for ((i = 0; i < WAIT_S; i++)); do
        state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -1 || true)
        case $state in
            idle|mixed|allocated|completing) say "node $host is $state (partition debug)"; return 0 ;;
            drain*|down*|fail*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 1
    done
    sinfo -N -l >&2 || true
    tail -n 20 $LOG_DIR/slurmctld.log $LOG_DIR/slurmd.log >&2 || true
    die "node $host did not become idle within ${WAIT_S}s (state '${state:-none}'; logs above, in $LOG_DIR)"
}

start() {
    need_root
    install_packages
    start_munge
    if alive $CTLD_PID && alive $SLURMD_PID && [[ -f $CONF ]]; then
        say "slurmctld and slurmd are already running"
        wait_idle
        return
    fi
    write_conf
    if ! alive $CTLD_PID; then
        slurmctld || die "slurmctld did not start (see $LOG_DIR/slurmctld.log)"
    fi
    if ! alive $SLURMD_PID; then
        slurmd || die "slurmd did not start (see $LOG_DIR/slurmd.log)"
    fi
    wait_idle
}

stop_one() {
    local name=$1 pidfile=$2 pid i
    if ! alive "$pidfile"; then return; fi
    pid=$(cat "$pidfile")
    kill "$pid"
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || { say "stopped $name ($pid)"; return; }; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    say "killed $name ($pid)"
}

stop() {
    need_root
    stop_one slurmd $SLURMD_PID
    stop_one slurmctld $CTLD_PID
    stop_one munged $MUNGE_PID
}

status() {
    local name pidfile
    for name in munged:$MUNGE_PID slurmctld:$CTLD_PID slurmd:$SLURMD_PID; do
        pidfile=${name#*:}
        if alive "$pidfile"; then echo "${name%%:*}: running (pid $(cat "$pidfile"))"; else echo "${name%%:*}: stopped"; fi
    done
    if alive $CTLD_PID; then sinfo -N -l; fi
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
