#!/usr/bin/env bash
# `make demo`: the whole flow on real offline data (the Makefile runs tools/setup_env.sh first).
#
#  1. data: Fashion-MNIST (Debian package dataset-fashion-mnist, installed if missing) and
#     scenes composed of its test-split garments (tools/data/prepare_fashion_scenes.py: boxes,
#     masks and label maps; the pretraining sees only the training split)
#  2. pretrain MEJigClu and JigClu (and mmpretrain's MoCo v2 with DEMO_MOCO=1) with the
#     Fashion-MNIST configs (MEJigClu: one fixed subset of the data per class of L_cls)
#  3. convert the backbones for mmdet / mmseg (tools/convert_weights.py)
#  4. frozen features of each and of a randomly initialised backbone: weighted kNN (k=20) and
#     an L-BFGS linear probe (tools/knn_eval.py, tools/linear_probe.py; one extraction shared),
#     bank / training set DEMO_EVAL_IMAGES training images, queries the first
#     DEMO_QUERY_IMAGES test images; a t-SNE picture of the test features
#     (tools/visualize_tsne.py)
#  5. Faster R-CNN + FPN on the scenes from each backbone, frozen (docs/transfer.md)
#  6. PSPNet on the scenes from each backbone, frozen
#  7. the results table (work_dirs/demo/results.md), loss curves and a montage picture
#
# The defaults are sized for 2 CPU cores (see README for the measured time): pretraining
# 1280 images x 12 epochs (240 iterations of 64; every image recurs, so that MEJigClu's
# classification loss, whose classes are the sampler's fixed subsets of 20 images, can start
# to fall; the kNN monitor runs after the last epoch), 2500 training and 5000 test images for
# the frozen-feature evaluation, detection and segmentation 1 epoch over 400 training scenes.
# DEMO_SCALE=N (e.g. 10 on a GPU) runs the same flow with N times the images (up to the whole
# data set) and N times the epochs; DEMO_PRE_IMAGES, DEMO_PRE_EPOCHS, DEMO_EVAL_IMAGES,
# DEMO_QUERY_IMAGES, DEMO_SCENES and DEMO_TRANSFER_EPOCHS set single sizes, DEMO_SEED the seed
# of every run (default 0), DEMO_WORK_DIR the output folder (default work_dirs/demo).
# Options: DEMO_MOCO=1 adds the MoCo v2 row; DEMO_ABLATION=1 also pretrains the cls+clu @ 0.3
# variant and writes Table 4's ablation (ablation.md) with the transfer columns; DEMO_TREES=1
# adds Faster R-CNN on deepforest's tree crowns (DEMO_TREE_EPOCHS, DEMO_TREE_SIZE), off by
# default: at the demo's size every backbone scored 0 AP there (docs/transfer.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY=.venv/bin/python
SCALE=${DEMO_SCALE:-1}
OUT=${DEMO_WORK_DIR:-work_dirs/demo}
min() { echo $(( $1 < $2 ? $1 : $2 )); }
PRE_IMAGES=${DEMO_PRE_IMAGES:-$(min $((1280 * SCALE)) 60000)}
PRE_EPOCHS=${DEMO_PRE_EPOCHS:-$((12 * SCALE))}
EVAL_IMAGES=${DEMO_EVAL_IMAGES:-$(min $((2500 * SCALE)) 60000)}
QUERY_IMAGES=${DEMO_QUERY_IMAGES:-$(min $((5000 * SCALE)) 10000)}
SCENES=${DEMO_SCENES:-$(min $((400 * SCALE)) 1000)}
TRANSFER_EPOCHS=${DEMO_TRANSFER_EPOCHS:-$SCALE}
TREE_EPOCHS=${DEMO_TREE_EPOCHS:-$((3 * SCALE))}
TREE_SIZE=${DEMO_TREE_SIZE:-160}
SEED=${DEMO_SEED:-0}
METHODS=(mejigclu jigclu)
if [[ ${DEMO_MOCO:-0} == 1 ]]; then METHODS+=(mocov2); fi
PRETRAINED=("${METHODS[@]}")
if [[ ${DEMO_ABLATION:-0} == 1 ]]; then PRETRAINED+=(mejigclu-overlap0.3); fi
INITS=("${PRETRAINED[@]}" random_init)
EXPECT=(det seg)
if [[ ${DEMO_TREES:-0} == 1 ]]; then EXPECT+=(trees); fi
PRETRAIN=configs/{}/{}_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py
LINEAR=configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py
DET=configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py
SEG=configs/mejigclu/benchmarks/mmsegmentation/pspnet_r18-cifar_1xb8-6e_fashion-scenes.py
TREES=configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py
START=$SECONDS
stage() { echo "== [demo $(( (SECONDS - START) / 60 )) min] $*"; }

stage "1/7 data: Fashion-MNIST and scenes of its test-split garments (real, offline)"
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
$PY tools/data/prepare_fashion_scenes.py --src data/fashion_mnist --out data/fashion_scenes \
  | sed 's/^/    /'
if [[ ${DEMO_TREES:-0} == 1 ]]; then $PY tools/data/prepare_deepforest.py --out data/deepforest; fi

train() {  # CONFIG WORK_DIR OPTIONS...: a new run (an earlier one in WORK_DIR is replaced)
  local config=$1 work_dir=$2
  shift 2
  $PY tools/train.py "$config" --work-dir "$work_dir" --overwrite \
    --cfg-options randomness.seed=$SEED "$@" > "$work_dir.log" 2>&1 ||
    { tail -n 30 "$work_dir.log"; echo "demo: $config failed, log: $work_dir.log" >&2; exit 1; }
  grep -E "Epoch\(train\).*\]\[ *[0-9]+/[0-9]+\]|Epoch\(val\).*\[[0-9]+/[0-9]+\] +(accuracy|coco|aAcc)" \
    "$work_dir.log" | tail -n 2 | cut -c 1-200 | sed 's/^/    /'
}
pretrain_config() {
  local folder=${1%%-*}  # mejigclu-overlap0.3 -> configs/mejigclu/
  local config=${PRETRAIN/\{\}/$folder}
  echo "${config/\{\}/$1}"
}
backbone() {  # INIT: the --cfg-options that set a transfer config's backbone
  if [[ $1 == random_init ]]; then echo model.backbone.init_cfg=None
  else echo "model.backbone.init_cfg.checkpoint=$OUT/$1/backbone_mmdet.pth"; fi
}
mkdir -p "$OUT/random_init"
for method in "${PRETRAINED[@]}"; do
  stage "2/7 pretrain $method: $PRE_IMAGES images x $PRE_EPOCHS epochs"
  train "$(pretrain_config "$method")" "$OUT/$method" \
    train_dataloader.dataset.indices=$PRE_IMAGES train_cfg.max_epochs=$PRE_EPOCHS \
    param_scheduler.0.T_max=$PRE_EPOCHS param_scheduler.0.end=$PRE_EPOCHS \
    default_hooks.logger.interval=20 custom_hooks.1.interval=$PRE_EPOCHS
done

stage "3/7 convert the pretrained backbones for mmdet / mmseg"
for method in "${PRETRAINED[@]}"; do
  $PY tools/convert_weights.py "$(cat "$OUT/$method/last_checkpoint")" \
    "$OUT/$method/backbone_mmdet.pth" --to mmdet --force | tail -n 1 | sed 's/^/    /'
done

# The three frozen-feature tools in one process: each would spend ~12 s importing the stack
# (about 70 s of the stage's 10 min on a 2-core machine); the first extracts the features, the
# others read them back. Channels-last on the CPU too: the extraction is a ResNet_CIFAR-18
# forward, 1.23-1.39x faster in that layout on every CPU measured (docs/speed.md), unlike
# detection, which is why the configs keep it to CUDA by default.
FROZEN_TOOLS='
import sys
sys.path.insert(0, "tools")
import knn_eval, linear_probe, visualize_tsne
out, options = sys.argv[1], sys.argv[2:]
knn_eval.main([*options, "--out", f"{out}/knn.json"])
linear_probe.main([*options, "--out", f"{out}/linear_probe.json"])
visualize_tsne.main([*options, "--out", f"{out}/tsne.png", "--num-points", "2000"])
'
for init in "${INITS[@]}"; do
  stage "4/7 frozen features, $init: kNN, linear probe, t-SNE; $EVAL_IMAGES training / $QUERY_IMAGES test images"
  if [[ $init == random_init ]]; then checkpoint=none
  else checkpoint=$(cat "$OUT/$init/last_checkpoint"); fi
  log=$OUT/$init/frozen_features.log
  $PY -c "$FROZEN_TOOLS" "$OUT/$init" $LINEAR "$checkpoint" --seed "$SEED" \
    --features "$OUT/$init/features.pth" --cfg-options train_dataloader.dataset.indices=$EVAL_IMAGES \
    val_dataloader.dataset.indices=$QUERY_IMAGES "custom_hooks.0.devices=[cuda,cpu]" \
    > "$log" 2>&1 ||
    { tail -n 30 "$log"; echo "demo: frozen-feature tools failed, log: $log" >&2; exit 1; }
  grep -E "^(k=20 |top-1)" "$log" | sed 's/^/    /' || true
done

# One epoch over the first $SCENES training scenes, backbone frozen (docs/transfer.md): the
# heads learn on each backbone's features. Detection: warm-up over the first 25 iterations, no
# step.
SCENE_OPTIONS=(train_dataloader.dataset.indices=$SCENES train_cfg.max_epochs=$TRANSFER_EPOCHS
               train_cfg.val_interval=$TRANSFER_EPOCHS)
for init in "${INITS[@]}"; do
  stage "5/7 Faster R-CNN on the scenes, $init: $SCENES scenes x $TRANSFER_EPOCHS epochs"
  train $DET "$OUT/$init/det" "$(backbone "$init")" "${SCENE_OPTIONS[@]}" \
    param_scheduler.0.end=25 param_scheduler.1.end=$TRANSFER_EPOCHS \
    "param_scheduler.1.milestones=[$TRANSFER_EPOCHS]"
done
for init in "${INITS[@]}"; do
  stage "6/7 PSPNet on the scenes, $init: $SCENES scenes x $TRANSFER_EPOCHS epochs"
  train $SEG "$OUT/$init/seg" "$(backbone "$init")" "${SCENE_OPTIONS[@]}" \
    param_scheduler.0.end=$TRANSFER_EPOCHS
done
if [[ ${DEMO_TREES:-0} == 1 ]]; then
  # mmdet's 1x steps (x0.1 at 8/12 and 11/12), a second step only where it falls before the
  # end; warm-up over the first epoch (10 iterations) instead of 50 iterations.
  TREE_STEPS=$((TREE_EPOCHS * 2 / 3))
  if (( TREE_EPOCHS * 11 / 12 > TREE_STEPS )); then TREE_STEPS="$TREE_STEPS,$((TREE_EPOCHS * 11 / 12))"; fi
  for init in "${INITS[@]}"; do
    stage "6/7 Faster R-CNN on tree crowns, $init: $TREE_EPOCHS epochs at $TREE_SIZE px"
    train $TREES "$OUT/$init/trees" "$(backbone "$init")" \
      train_cfg.max_epochs=$TREE_EPOCHS train_cfg.val_interval=$TREE_EPOCHS \
      param_scheduler.0.end=10 param_scheduler.1.end=$TREE_EPOCHS \
      "param_scheduler.1.milestones=[$TREE_STEPS]" \
      "train_dataloader.dataset.pipeline.2.scale=($TREE_SIZE,$TREE_SIZE)" \
      "val_dataloader.dataset.pipeline.1.scale=($TREE_SIZE,$TREE_SIZE)" \
      "test_dataloader.dataset.pipeline.1.scale=($TREE_SIZE,$TREE_SIZE)"
  done
fi

stage "7/7 results"
$PY tools/plot_curves.py "${PRETRAINED[@]/#/$OUT/}" --out-dir "$OUT/curves" | sed 's/^/    /'
mkdir -p "$OUT/montage_images"
cp .venv/share/offline-data/foolbox/data/imagenet_*.jpg "$OUT/montage_images/"
$PY tools/visualize_montage.py configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py \
  --image-dir "$OUT/montage_images" --out-dir "$OUT/montages" --batch-size 8 | sed 's/^/    /'
echo
echo "Fashion-MNIST frozen-feature top-1 (kNN k=20, linear probe; $QUERY_IMAGES test images), detection"
echo "(COCO AP) and segmentation (mIoU) on 250 validation scenes, backbones frozen;"
echo "pretraining: $PRE_IMAGES images x $PRE_EPOCHS epochs; DEMO_SCALE=$SCALE; seed $SEED; $(( (SECONDS - START) / 60 )) min"
declare -A ROW_NAME=([mejigclu]=MEJigClu [jigclu]=JigClu [mocov2]='MoCo v2'
                     [mejigclu-overlap0.3]='cls+clu @ 0.3')
rows=()
for method in "${PRETRAINED[@]}"; do rows+=("${ROW_NAME[$method]}=$OUT/$method"); done
$PY tools/results_table.py "${rows[@]}" "random init=$OUT/random_init" --expect "${EXPECT[@]}" \
  --out "$OUT/results.md"
if [[ ${DEMO_ABLATION:-0} == 1 ]]; then
  echo
  echo "Table 4 at the demo's size (rows: loc+clu @ 0.3 = JigClu, cls+clu @ 0.3, cls+clu @ random = MEJigClu)"
  $PY tools/ablation_table.py "$OUT/jigclu" "$OUT/mejigclu-overlap0.3" "$OUT/mejigclu" \
    --expect "${EXPECT[@]}" --out "$OUT/ablation.md"
fi
