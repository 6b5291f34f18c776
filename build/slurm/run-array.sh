#!/usr/bin/env bash
# Scores INPUT with MODEL as a Slurm job array of SHARDS tasks into OUT (Parquet parts + manifests), kills one task part-way
# with scancel, resubmits that index (it resumes from its checkpoints), waits for all, and runs `verify` (with --reference REF,
# every row's scores are compared with another run, e.g. a single process). Needs a cluster from start.sh.
#   MLNOTES_TOOL=.../MlNotes.BatchScoring.dll build/slurm/run-array.sh MODEL INPUT OUT [SHARDS] [REF]
# Environment: MLNOTES_KILL_INDEX (default 2; -1: kill nothing), MLNOTES_KILL_AFTER_CHECKPOINTS (default 2),
# MLNOTES_CHECKPOINT_ROWS (default 10000), MLNOTES_TIMEOUT_S (default 900).
# Prints `slurm ...` lines with the timings and ends with verify's line; exit code: verify's (0 ok, 3 a problem), 1 on a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
model="$(realpath "$1")"; input="$(realpath "$2")"; out="$(realpath -m "$3")"; shards="${4:-4}"; reference="${5:-}"
kill_index="${MLNOTES_KILL_INDEX:-2}"; kill_after="${MLNOTES_KILL_AFTER_CHECKPOINTS:-2}"; timeout_s="${MLNOTES_TIMEOUT_S:-900}"
: "${MLNOTES_TOOL:?MLNOTES_TOOL must name the built MlNotes.BatchScoring.dll}"
export MLNOTES_TOOL MLNOTES_MODEL="$model" MLNOTES_INPUT="$input" MLNOTES_OUTPUT="$out" MLNOTES_SHARDS="$shards"
export MLNOTES_CHECKPOINT_ROWS="${MLNOTES_CHECKPOINT_ROWS:-10000}"
logs="$out.logs"
rm -rf "$out" "$logs"; mkdir -p "$out" "$logs"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
deadline=$(( $(date +%s) + timeout_s ))
check_time() { if [ "$(date +%s)" -gt "$deadline" ]; then echo "run-array.sh: timed out after ${timeout_s}s" >&2; squeue >&2 || true; scancel "$@" 2>/dev/null || true; exit 1; fi; }
wait_for() { while [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; do check_time "$1"; sleep 0.5; done; }

start="$(now)"
job="$(sbatch --parsable --array=0-$((shards - 1)) -o "$logs/score-%A_%a.log" "$here/score-array.sbatch")"
echo "slurm submitted job=$job array=0-$((shards - 1))"
retry=""
if [ "$kill_index" -ge 0 ]; then
  chunks="$out/.part-$(printf %05d "$kill_index")"
  while [ "$(find "$chunks" -name '*.parquet' 2>/dev/null | wc -l)" -lt "$kill_after" ]; do
    check_time "$job"
    if [ -e "$out/part-$(printf %05d "$kill_index").json" ]; then echo "run-array.sh: task $kill_index finished before it could be killed" >&2; exit 1; fi
    sleep 0.2
  done
  scancel "${job}_${kill_index}"
  killed="$(now)"
  wait_for "${job}_${kill_index}"
  done_chunks="$(find "$chunks" -name '*.parquet' | wc -l)"
  [ -e "$out/part-$(printf %05d "$kill_index").json" ] && { echo "run-array.sh: task $kill_index completed despite scancel" >&2; exit 1; }
  echo "slurm killed task=${job}_${kill_index} at_s=$(elapsed "$start" "$killed") checkpoints_kept=$done_chunks"
  retry_start="$(now)"
  retry="$(sbatch --parsable --array="$kill_index" -o "$logs/retry-%A_%a.log" "$here/score-array.sbatch")"
  echo "slurm resubmitted job=$retry array=$kill_index"
fi
wait_for "$job"
[ -n "$retry" ] && wait_for "$retry"
finish="$(now)"
retry_s=0
if [ -n "$retry" ]; then
  retry_log="$(ls "$logs"/retry-*.log)"
  grep -q '^Resuming after' "$retry_log" || { echo "run-array.sh: the resubmitted task did not resume:" >&2; cat "$retry_log" >&2; exit 1; }
  retry_s="$(elapsed "$retry_start" "$finish")"
  # Time lost, in task-seconds at the retry's own scoring rate r: the killed task's run beyond what its kept checkpoints are worth,
  # plus the retry's run beyond the rows it scored (start-up, model load, skipping the kept rows, the final merge).
  killed_start="$(sed -n 's/^task_start=//p' "$logs/score-${job}_${kill_index}.log")"
  retry_task_start="$(sed -n 's/^task_start=//p' "$retry_log")"
  retry_end="$(date -r "$out/part-$(printf %05d "$kill_index").json" +%s.%N)"
  read -r scored rate < <(sed -n 's/^done rows=[0-9]* scored_now=\([0-9]*\) rows_per_s=\([0-9]*\).*/\1 \2/p' "$retry_log")
  kept=$(( done_chunks * MLNOTES_CHECKPOINT_ROWS ))
  awk -v ks="$killed_start" -v k="$killed" -v kept="$kept" -v rs="$retry_task_start" -v re="$retry_end" -v n="$scored" -v r="$rate" 'BEGIN {
    killed_run = k - ks; retry_run = re - rs; lost = (killed_run - kept / r) + (retry_run - n / r);
    printf "slurm retry lost_s=%.2f killed_task_s=%.2f kept_rows=%d retry_task_s=%.2f retry_rows=%d rows_per_s=%d\n", lost, killed_run, kept, retry_run, n, r }'
fi
for log in "$logs"/*.log; do grep -q '^done rows=' "$log" || [ "$log" = "$logs/score-${job}_${kill_index}.log" ] || { echo "run-array.sh: $log has no done line:" >&2; cat "$log" >&2; exit 1; }; done
rows="$(grep -h '^done rows=' "$logs"/*.log | sed 's/^done rows=\([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s }')"
echo "slurm done shards=$shards array_s=$(elapsed "$start" "$finish") retry_task_s=$retry_s rows_in_parts=$rows"
set +e
dotnet "$MLNOTES_TOOL" verify "$out" ${reference:+--reference "$reference"}
code=$?
exit $code
