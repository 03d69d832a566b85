#!/usr/bin/env bash
# Training on a Slurm cluster.
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
#   GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5),
#   SRUN_ARGS (extra srun options).
set -euo pipefail
[ $# -ge 4 ] || {
  echo "usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]" >&2
  exit 2; }
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PYTHONPATH="$ROOT:${PYTHONPATH:-}" srun -p "$PARTITION" --job-name="$JOB_NAME" \
  --gres=gpu:"$GPUS_PER_NODE" --ntasks="${GPUS:-8}" --ntasks-per-node="$GPUS_PER_NODE" \
  --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "$@"
