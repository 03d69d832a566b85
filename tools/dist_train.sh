#!/usr/bin/env bash
# Multi-GPU training on one or several nodes with torchrun.
# Usage: tools/dist_train.sh CONFIG GPUS [train.py options...]
#   NNODES, NODE_RANK, MASTER_ADDR, PORT select a multi-node run; PORT (default 29500) must be
#   free on MASTER_ADDR.
# Without a GPU, GPUS is the number of CPU processes: tools/train.py then starts a gloo process
# group itself (mejigclu_mm/runtime/cpu_distributed.py) and torchrun gives each process 1 thread.
set -euo pipefail
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$GPUS" --master_port="$PORT" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
