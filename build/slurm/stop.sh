#!/usr/bin/env bash
# Stops the daemons start.sh started (slurmd, slurmctld, munged), by the process ids in their pid files, and waits for them.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
for daemon in slurmd slurmctld munged; do
  pidfile="$MLNOTES_SLURM_DIR/run/$daemon.pid"
  [ -s "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
done
echo "stop.sh: stopped"
