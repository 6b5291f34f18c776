#!/usr/bin/env bash
# Installs (when missing) and starts a one-node Slurm cluster on this machine without systemd: a munge key and munged, a
# slurm.conf with this node and its cores (proctrack/linuxproc, task/none: no cgroups needed), slurmctld and slurmd as root.
# Clients (sbatch, squeue, scancel) need SLURM_CONF from env.sh. Stop it with stop.sh.
# Exit codes: 0 the node is idle and takes jobs; 1 a daemon did not start (its log is printed); 2 not root / cannot install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
state="$MLNOTES_SLURM_DIR"

if [ "$(id -u)" != 0 ]; then
  echo "start.sh: needs root (apt-get, munged and the Slurm daemons run as root)." >&2
  exit 2
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "start.sh: installing slurm-wlm and munge with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null; } \
    || { echo "start.sh: apt-get could not install slurm-wlm munge" >&2; exit 2; }
fi

"$here/stop.sh" >/dev/null 2>&1 || true
mkdir -p "$state"/{ctld,spool,log,run,munge}
rm -rf "$state"/ctld/* "$state"/spool/*

# munge: a fresh key for this cluster, its own socket.
dd if=/dev/urandom of="$state/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$state/munge/munge.key"
munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
  --pid-file="$state/run/munged.pid" --log-file="$state/log/munged.log" --seed-file="$state/munge/munge.seed"

host="$(hostname -s)"
# slurmd -C reads this machine's sockets, cores, threads and memory: the node line matches what slurmd will find.
node="$(slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*/NodeName=$host NodeAddr=127.0.0.1/")"
cat > "$SLURM_CONF" <<CONF
ClusterName=mlnotes
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
SlurmctldPort=$MLNOTES_SLURM_PORT
SlurmdPort=$((MLNOTES_SLURM_PORT + 1))
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
KillWait=5
MinJobAge=600
$node State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -i
slurmd
for _ in $(seq 1 60); do
  status="$(sinfo -h -o %T 2>/dev/null || true)"
  case "$status" in
    idle*|mixed*|allocated*) echo "start.sh: node $host is $status ($(grep -o 'CPUs=[0-9]*' "$SLURM_CONF")), SLURM_CONF=$SLURM_CONF"; exit 0 ;;
    down*|drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
echo "start.sh: the node did not become idle (sinfo: ${status:-no answer})" >&2
tail -n 20 "$state"/log/*.log >&2 || true
exit 1
