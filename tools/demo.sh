#!/usr/bin/env bash
# `make demo`: MEJigClu vs JigClu vs the network both start from, on real offline data, on
# paired seeds with confidence intervals (the Makefile runs tools/setup_env.sh first).
#
#  1. data: Fashion-MNIST (Debian package dataset-fashion-mnist, installed if missing) and
#     scenes composed of its test-split garments (tools/data/prepare_fashion_scenes.py: train /
#     val / test scenes of disjoint garments; the pretraining sees only the training split)
#  2. tools/compare.py with configs/comparisons/mejigclu-vs-jigclu_resnet18-cifar_fashion-mnist.py
#     on DEMO_SEEDS paired seeds: per seed one initial backbone (the random baseline) loaded
#     into both arms, the same batches and draws; each arm pretrained (tools/train.py) and every
#     backbone probed (tools/probe_backbone.py): weighted kNN and L-BFGS linear probe on
#     Fashion-MNIST, per-pixel segmentation and box-naming probes on the test scenes
#  3. the table with intervals and verdicts (work_dirs/demo/results.md), the per-seed picture,
#     loss curves, t-SNE pictures of seed 0's backbones and a montage picture
#
# Sizes for 2 CPU cores (README gives the measured time): pretraining 1280 images x 12 epochs
# (240 steps of 64 images), probes on 2500 training / 5000 test images and 400 training / 500
# test scenes, DEMO_SEEDS=3 seeds, two jobs at once of one thread each (DEMO_JOBS,
# DEMO_THREADS). DEMO_SCALE=N (e.g. 10 on a GPU) runs the flow with N times the images (up to
# the whole data set) and N times the epochs; DEMO_PRE_IMAGES, DEMO_PRE_EPOCHS,
# DEMO_EVAL_IMAGES, DEMO_QUERY_IMAGES, DEMO_SCENES set single sizes, DEMO_WORK_DIR the folder.
# Options: DEMO_MOCO=1 adds mmpretrain's MoCo v2 as an arm; DEMO_ABLATION=1 adds MEJigClu's
# losses at JigClu's fixed overlap 0.3 (Table 4's middle row) with its contrasts;
# DEMO_OFF_CENTRE=1 pretrains on small garments away from the image centre instead (Fig. 1's
# case: tools/data/prepare_fashion_scenes.py --singles), probed as usual.
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
SEEDS=${DEMO_SEEDS:-3}
JOBS=${DEMO_JOBS:-2}
THREADS=${DEMO_THREADS:-1}
COMPARISON=configs/comparisons/mejigclu-vs-jigclu_resnet18-cifar_fashion-mnist.py
ARMS=(MEJigClu JigClu)
if [[ ${DEMO_MOCO:-0} == 1 || ${DEMO_ABLATION:-0} == 1 ]]; then
  COMPARISON=configs/comparisons/mejigclu-vs-peers_resnet18-cifar_fashion-mnist.py
  if [[ ${DEMO_MOCO:-0} == 1 ]]; then ARMS+=("MoCo v2"); fi
  if [[ ${DEMO_ABLATION:-0} == 1 ]]; then ARMS+=("cls+clu @ 0.3"); fi
fi
if [[ ${DEMO_OFF_CENTRE:-0} == 1 ]]; then
  if [[ $COMPARISON != *mejigclu-vs-jigclu_resnet18-cifar_fashion-mnist.py ]]; then
    echo "demo: DEMO_OFF_CENTRE=1 runs MEJigClu vs JigClu only: leave DEMO_MOCO / DEMO_ABLATION unset" >&2
    exit 1
  fi
  COMPARISON=configs/comparisons/mejigclu-vs-jigclu_resnet18-cifar_fashion-singles-off-centre.py
fi
START=$SECONDS
stage() { echo "== [demo $(( (SECONDS - START) / 60 )) min] $*"; }

stage "1/3 data: Fashion-MNIST and scenes of its test-split garments (real, offline)"
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
if [[ ${DEMO_OFF_CENTRE:-0} == 1 ]]; then
  $PY tools/data/prepare_fashion_scenes.py --singles --src data/fashion_mnist \
    --out data/fashion_singles | sed 's/^/    /'
fi

stage "2/3 $SEEDS paired seeds: pretraining ($PRE_IMAGES images x $PRE_EPOCHS epochs per arm) and probes"
seed_list=$(seq -s, 0 $((SEEDS - 1)))
mkdir -p "$(dirname "$OUT")"  # the log lies beside the work dir (work_dirs/ on a fresh clone)
$PY tools/compare.py "$COMPARISON" --work-dir "$OUT" --jobs "$JOBS" --threads "$THREADS" \
  --arms "${ARMS[@]}" \
  --cfg-options "seeds=[$seed_list]" \
  --pretrain-options train_dataloader.dataset.indices="$PRE_IMAGES" \
    train_cfg.max_epochs="$PRE_EPOCHS" param_scheduler.0.T_max="$PRE_EPOCHS" \
    param_scheduler.0.end="$PRE_EPOCHS" default_hooks.checkpoint.interval="$PRE_EPOCHS" \
  --probe-options train_dataloader.dataset.indices="$EVAL_IMAGES" \
    val_dataloader.dataset.indices="$QUERY_IMAGES" \
  --dense-options train_scenes="$SCENES" > "$OUT.log" 2>&1 ||
  { tail -n 40 "$OUT.log"; echo "demo: tools/compare.py failed, log: $OUT.log" >&2; exit 1; }
grep -E "finished|FAILED" "$OUT.log" | sed 's/^/    /'

stage "3/3 pictures: loss curves, t-SNE of seed 0, montages"
runs=()
for run in "$OUT"/seed0/*/; do if [[ -f $run/done.json ]]; then runs+=("$run"); fi; done
$PY tools/plot_curves.py "${runs[@]}" --out-dir "$OUT/curves" | sed 's/^/    /'
PROBES=$OUT/probes_config.py
for run in "$OUT"/seed0/*/; do
  name=$(basename "$run")
  if [[ -f $run/done.json ]]; then
    checkpoint=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['checkpoint'])" "$run/done.json")
  elif [[ -f $run/probes.json ]]; then checkpoint=$OUT/seed0/initial_backbone.pth
  else continue; fi
  $PY tools/visualize_tsne.py "$PROBES" "$checkpoint" --num-points 2000 --seed 0 \
    --out "$OUT/tsne_$name.png" > "$OUT/tsne_$name.log" 2>&1 ||
    { tail -n 20 "$OUT/tsne_$name.log"; echo "demo: t-SNE failed, log: $OUT/tsne_$name.log" >&2; exit 1; }
  echo "    $OUT/tsne_$name.png"
done
mkdir -p "$OUT/montage_images"
cp .venv/share/offline-data/foolbox/data/imagenet_*.jpg "$OUT/montage_images/"
$PY tools/visualize_montage.py configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py \
  --image-dir "$OUT/montage_images" --out-dir "$OUT/montages" --batch-size 8 | sed 's/^/    /'
echo
echo "MEJigClu vs JigClu vs random init on $SEEDS paired seeds; pretraining $PRE_IMAGES images x"
echo "$PRE_EPOCHS epochs; probes on $EVAL_IMAGES / $QUERY_IMAGES images and $SCENES / 500 scenes;"
echo "DEMO_SCALE=$SCALE; $(( (SECONDS - START) / 60 )) min"
cat "$OUT/results.md"
