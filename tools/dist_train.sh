#!/usr/bin/env bash
# Multi-GPU training on one or several nodes with torchrun.
# Usage: tools/dist_train.sh CONFIG GPUS [train.py options...]
#   NNODES, NODE_RANK, MASTER_ADDR, PORT select a multi-node run; PORT (default 29500) must be
#   free on MASTER_ADDR.
# Without a GPU, GPUS is the number of CPU processes: tools/train.py then starts a gloo process
# group itself (mejigclu_mm/runtime/cpu_distributed.py) and torchrun gives each process 1 thread.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: tools/dist_train.sh CONFIG GPUS [train.py options...]" >&2; exit 2; }
CONFIG=$1
GPUS=$2
shift 2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --nproc_per_node="$GPUS" --master_port="${PORT:-29500}" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
