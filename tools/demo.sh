#!/usr/bin/env bash
# `make demo`: the whole flow on real offline data (the Makefile runs tools/setup_env.sh first).
#
#  1. data: Fashion-MNIST (Debian package dataset-fashion-mnist, installed if missing) and
#     deepforest's tree-crown images tiled into a COCO detection set
#  2. pretrain MEJigClu and JigClu (and mmpretrain's MoCo v2 with DEMO_MOCO=1) with the
#     Fashion-MNIST configs (MEJigClu: one fixed subset of the data per class of L_cls)
#  3. convert the backbones for mmdet (tools/convert_weights.py)
#  4. frozen features of each and of a randomly initialised backbone: weighted kNN (k=20) and
#     an L-BFGS linear probe (tools/knn_eval.py, tools/linear_probe.py; one extraction shared),
#     bank / training set DEMO_EVAL_IMAGES training images, the whole 10k test set
#  5. Faster R-CNN fine-tuning on the tree crowns from each of them
#  6. the results table (work_dirs/demo/results.md), loss curves and a montage picture
#
# The defaults are sized for 2 CPU cores (see README for the measured time): pretraining
# 1280 images x 12 epochs (240 iterations of 64; every image recurs, so that MEJigClu's
# classification loss, whose classes are the sampler's fixed subsets of 20 images, can start
# to fall), 5000 training images for the frozen-feature evaluation, detection
# 3 epochs at 160 px. DEMO_SCALE=N (e.g. 10 on a GPU) runs the same flow with N times the images
# (up to the whole training set) and N times the epochs; DEMO_PRE_IMAGES, DEMO_PRE_EPOCHS,
# DEMO_EVAL_IMAGES, DEMO_DET_EPOCHS and DEMO_DET_SIZE (the detector's input side, the config's
# own is 200 px) set single sizes, DEMO_SEED the seed of every run (default 0), DEMO_WORK_DIR the
# output folder (default work_dirs/demo). DEMO_MOCO=1 adds the MoCo v2 row.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY=.venv/bin/python
SCALE=${DEMO_SCALE:-1}
OUT=${DEMO_WORK_DIR:-work_dirs/demo}
min() { echo $(( $1 < $2 ? $1 : $2 )); }
PRE_IMAGES=${DEMO_PRE_IMAGES:-$(min $((1280 * SCALE)) 60000)}
PRE_EPOCHS=${DEMO_PRE_EPOCHS:-$((12 * SCALE))}
EVAL_IMAGES=${DEMO_EVAL_IMAGES:-$(min $((5000 * SCALE)) 60000)}
SEED=${DEMO_SEED:-0}
DET_EPOCHS=${DEMO_DET_EPOCHS:-$((3 * SCALE))}
DET_SIZE=${DEMO_DET_SIZE:-160}
METHODS=(mejigclu jigclu)
if [[ ${DEMO_MOCO:-0} == 1 ]]; then METHODS+=(mocov2); fi
PRETRAIN=configs/pretrain/{}_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py
LINEAR=configs/linear/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py
DET=configs/det/faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py
START=$SECONDS
stage() { echo "== [demo $(( (SECONDS - START) / 60 )) min] $*"; }

stage "1/6 data: Fashion-MNIST and deepforest tree crowns (real, offline)"
SRC=/usr/share/datasets/fashion-mnist
if [[ ! -f $SRC/train-images-idx3-ubyte.gz ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "demo: $SRC is missing; install it with: sudo apt-get install dataset-fashion-mnist" >&2
    exit 1
  fi
  apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }
fi
$PY tools/data/prepare_fashion_mnist.py --src "$SRC" --out data/fashion_mnist
$PY tools/data/prepare_deepforest.py --out data/deepforest

train() {  # CONFIG WORK_DIR OPTIONS...
  local config=$1 work_dir=$2
  shift 2
  $PY tools/train.py "$config" --work-dir "$work_dir" --cfg-options randomness.seed=$SEED "$@" \
    > "$work_dir.log" 2>&1 || { tail -n 30 "$work_dir.log"; echo "demo: $config failed, log: $work_dir.log" >&2; exit 1; }
  grep -E "Epoch\(train\).*\]\[ *[0-9]+/[0-9]+\]|Epoch\(val\).*\[[0-9]+/[0-9]+\] +(accuracy|coco)" \
    "$work_dir.log" | tail -n 2 | sed 's/^/    /'
}
mkdir -p "$OUT"
for method in "${METHODS[@]}"; do
  stage "2/6 pretrain $method: $PRE_IMAGES images x $PRE_EPOCHS epochs"
  train "${PRETRAIN/\{\}/$method}" "$OUT/$method" \
    train_dataloader.dataset.indices=$PRE_IMAGES train_cfg.max_epochs=$PRE_EPOCHS \
    param_scheduler.0.T_max=$PRE_EPOCHS param_scheduler.0.end=$PRE_EPOCHS \
    default_hooks.logger.interval=20
done

stage "3/6 convert the pretrained backbones for mmdet"
for method in "${METHODS[@]}"; do
  $PY tools/convert_weights.py "$(cat "$OUT/$method/last_checkpoint")" \
    "$OUT/$method/backbone_mmdet.pth" --to mmdet | tail -n 1 | sed 's/^/    /'
done

mkdir -p "$OUT/random_init"
for init in "${METHODS[@]}" random_init; do
  stage "4/6 frozen features, $init: kNN and linear probe, $EVAL_IMAGES training / 10k test images"
  if [[ $init == random_init ]]; then checkpoint=none
  else checkpoint=$(cat "$OUT/$init/last_checkpoint"); fi
  for tool in knn_eval linear_probe; do
    if [[ $tool == knn_eval ]]; then out=knn.json; else out=linear_probe.json; fi
    $PY tools/$tool.py $LINEAR "$checkpoint" --seed "$SEED" --out "$OUT/$init/$out" \
      --features "$OUT/$init/features.pth" \
      --cfg-options train_dataloader.dataset.indices=$EVAL_IMAGES > "$OUT/$init/$tool.log" 2>&1 ||
      { tail -n 30 "$OUT/$init/$tool.log"; echo "demo: $tool failed, log: $OUT/$init/$tool.log" >&2; exit 1; }
    grep -E "^(k=20 |top-1)" "$OUT/$init/$tool.log" | sed 's/^/    /'
  done
done

# mmdet's 1x steps (x0.1 at 8/12 and 11/12), a second step only where it falls before the end;
# warm-up over the first epoch (10 iterations) instead of 50 iterations.
DET_STEPS=$((DET_EPOCHS * 2 / 3))
if (( DET_EPOCHS * 11 / 12 > DET_STEPS )); then DET_STEPS="$DET_STEPS,$((DET_EPOCHS * 11 / 12))"; fi
for init in "${METHODS[@]}" random_init; do
  stage "5/6 Faster R-CNN on tree crowns, $init: $DET_EPOCHS epochs at $DET_SIZE px"
  if [[ $init == random_init ]]; then backbone=(model.backbone.init_cfg=None)
  else backbone=("model.backbone.init_cfg.checkpoint=$OUT/$init/backbone_mmdet.pth"); fi
  train $DET "$OUT/$init/det" "${backbone[@]}" \
    train_cfg.max_epochs=$DET_EPOCHS train_cfg.val_interval=$DET_EPOCHS \
    param_scheduler.0.end=10 param_scheduler.1.end=$DET_EPOCHS \
    "param_scheduler.1.milestones=[$DET_STEPS]" \
    "train_dataloader.dataset.pipeline.2.scale=($DET_SIZE,$DET_SIZE)" \
    "val_dataloader.dataset.pipeline.1.scale=($DET_SIZE,$DET_SIZE)" \
    "test_dataloader.dataset.pipeline.1.scale=($DET_SIZE,$DET_SIZE)"
done

stage "6/6 results"
$PY tools/plot_curves.py "${METHODS[@]/#/$OUT/}" --out-dir "$OUT/curves" | sed 's/^/    /'
mkdir -p "$OUT/montage_images"
cp .venv/share/offline-data/foolbox/data/imagenet_*.jpg "$OUT/montage_images/"
$PY tools/visualize_montage.py configs/pretrain/mejigclu_resnet50_4xb64-coslr-200e_in1k.py \
  --image-dir "$OUT/montage_images" --out-dir "$OUT/montages" --batch-size 8 | sed 's/^/    /'
echo
echo "Fashion-MNIST frozen-feature top-1 (kNN k=20, linear probe; 10k test images) and"
echo "tree-crown detection (deepforest val);"
echo "pretraining: $PRE_IMAGES images x $PRE_EPOCHS epochs; DEMO_SCALE=$SCALE; $(( (SECONDS - START) / 60 )) min"
declare -A ROW_NAME=([mejigclu]=MEJigClu [jigclu]=JigClu [mocov2]='MoCo v2')
rows=()
for method in "${METHODS[@]}"; do rows+=("${ROW_NAME[$method]}=$OUT/$method"); done
$PY tools/results_table.py "${rows[@]}" "random init=$OUT/random_init" --out "$OUT/results.md"
