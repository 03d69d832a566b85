"""The configs moved into one folder per method (configs/mejigclu/, jigclu/, mocov2/, with
benchmarks/) and standalone dataset bases without changing a run: every config's merged
settings equal those of its old path at commit bad2b8d (configs/pretrain, linear, det, seg),
key by key, except where CHANGED says why."""
import fnmatch
import functools
import json

import pytest
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.runtime.config_options import runner_keys

SNAPSHOT = ROOT / 'tests/configs/data/merged_configs_bad2b8d.json'
# What the Runner and the inference tools read; the other top-level names of a config file
# (split, pack, knn_loader, ...) are the means of composing it.
COMPARED = (*runner_keys(), 'test_pipeline')
# (config pattern, key pattern) -> why the merged config differs from its snapshot
CHANGED = {
    ('configs/*/*resnet18-cifar*_{cifar10,cifar100,fashion-mnist}.py',
     'train_dataloader.dataset.pipeline[*].crop_ratio'):
        'the old JigClu split was dict(_base_.split, overlap=0.3), which inherited the ImageNet '
        "split's crop_ratio=(3/4, 4/3); JigsawSplit's default is the same ratio",
    ('configs/{mejigclu,jigclu}/*.py', 'train_dataloader.dataset.pipeline[*].channel_order'):
        'the colour order is stated once, by the loader: JigsawSplit lost channel_order',
    ('configs/{mejigclu,jigclu}/*_in1k.py', 'model.data_preprocessor.to_rgb'):
        'the ImageNet pipelines load RGB images: the preprocessor swaps nothing',
    ('configs/{mejigclu,jigclu}/*_in1k.py', 'train_dataloader.dataset.pipeline[0].channel_order'):
        'the ImageNet pipelines load RGB images (CheckedLoadImageFromFile(channel_order=rgb))',
    ('configs/{mejigclu,jigclu}/*_in1k.py', 'test_pipeline[0].*'):
        'the inference pipeline loads RGB images with the checked loader, as training does',
    ('configs/mejigclu/benchmarks/mm*/*fashion-scenes.py', 'test_*.*'):
        'the scenes have a test split of garments nobody tuned on; val chooses schedules',
    ('configs/*/*resnet18-cifar_1xb{64,128}-coslr-100e_*.py', 'auto_scale_lr.base_batch_size'):
        'issue 27.12: the small-data pretraining configs inherited base_batch_size=256 from the '
        'ImageNet schedule, so auto_scale_lr.enable=True cut their lr 4x (2x); each states its '
        'own batch',
    ('configs/mejigclu/benchmarks/*_1xb*.py', 'auto_scale_lr'):  # the sub-folders' too
        'issue 27.12: every config states the batch its lr is set for (it had none)',
    ('configs/mejigclu/benchmarks/mmsegmentation/*_4xb2-*.py', 'auto_scale_lr'):
        'issue 27.12: every config states the batch its lr is set for (it had none)',
    ('configs/mejigclu/benchmarks/mm*/*fashion-scenes.py', 'model.backbone.zero_init_residual'):
        'issue 24.1: with init_cfg=None the scene configs build a live random backbone, as the '
        'pretraining starts from, not one with zero-initialised residual branches',
    ('configs/mejigclu/benchmarks/mmdetection/*deepforest.py', 'model.backbone.zero_init_residual'):
        'issue 24.1: the detection base model builds a live random backbone with init_cfg=None',
    ('configs/mejigclu/benchmarks/mm{detection,segmentation}/*.py', 'custom_hooks'):
        'issues 27.10 / 27.11: DetectionDataCheckHook / SegmentationDataCheckHook check the '
        'annotations and label maps against the config before the first step',
    ('configs/mejigclu/benchmarks/mmdetection/*_{deepforest,fashion-scenes}.py',
     '{*._scope_,*.backend_args,train_dataloader.dataset.filter_cfg.min_size}'):
        "the detection data bases inherit mmdet's COCO base (loaders, pipelines, metric) and "
        "name only their data: mmdet's scope, its backend_args=None (the default) and its "
        'filter of images under 32 px (the tiles have 400 px, the scenes 64 px: none is filtered)',
    ('configs/*', 'runner_type'):
        'one route for the guards (issue 25.2): every config names GuardedRunner '
        '(configs/_base_/run_guards.py), so any train.py builds the same run',
    ('configs/*', 'default_hooks.{safe_checkpoint,random_state,dataloader_check,'
     'non_finite_loss}*'):
        'the guard hooks tools/train.py used to add to every run are in the configs '
        '(configs/_base_/run_guards.py), under scoped names that mmdet / mmseg find too',
    ('configs/mejigclu/benchmarks/mm*/*', 'default_hooks.checkpoint.type'):
        'the transfer configs save with AtomicCheckpointHook themselves (tools/train.py used '
        "to swap it in for mmengine's CheckpointHook)",
    ('configs/mejigclu/benchmarks/{,mmdetection/,mmsegmentation/}*.py', 'custom_hooks*'):
        'issues 27.7 / 26.5 (configs/_base_/transfer_guards.py): BackboneLoadedHook stops a '
        'transfer run whose backbone loaded nothing of the checkpoint it names; TransferGuardHook '
        'one whose backbone computes something else than the pretrained network on a real photo',
    **{('configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r50_*.py', key):
       'issue 26.4: the reference code (detectron2 Base-RCNN-FPN / R50-JigClu.yaml) where the '
       'papers are silent: warm-up 1000 iterations (VOC: 100), no weight decay on norm layers '
       '(WEIGHT_DECAY_NORM 0), 6000 RPN proposals before NMS at test'
       for key in ('model.test_cfg.rpn.nms_pre', 'optim_wrapper.paramwise_cfg',
                   'param_scheduler[0].end')},
    ('configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r50_fpn_syncbn_1x_coco.py',
     'param_scheduler[*]._scope_'):
        'issue 26.4: the schedule is written in the config (warm-up 1000), no longer inherited '
        'from mmdet:: with its _scope_ (mmdet is the default scope anyway)',
    **{('configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r50_fpn_syncbn_24k_voc0712.py', key):
       'issue 26.4: the official JigClu VOC recipe: batch 8 (4 GPUs x 2), lr 0.01, and '
       'detectron2\'s training filters (no minimum box or image size)'
       for key in ('auto_scale_lr.base_batch_size', 'optim_wrapper.optimizer.lr',
                   'train_dataloader.dataset.datasets[*].filter_cfg.*')},
}


def differences(before, after, path=''):
    """Dotted paths ('a.b[2].c') where two merged configs differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [item for key in sorted(set(before) | set(after), key=str)
                for item in (differences(before[key], after[key], f'{path}.{key}'.lstrip('.'))
                             if key in before and key in after else [f'{path}.{key}'.lstrip('.')])]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [item for index, (a, b) in enumerate(zip(before, after))
                for item in differences(a, b, f'{path}[{index}]')]
    return [] if before == after else [path]


def expand(pattern):
    """fnmatch has no {a,b}: one pattern per alternative."""
    if '{' not in pattern:
        return [pattern]
    head, rest = pattern.split('{', 1)
    choices, tail = rest.split('}', 1)
    return [p for choice in choices.split(',') for p in expand(head + choice + tail)]


def matches(pattern, config, key):
    configs, keys = pattern
    return any(fnmatch.fnmatch(config, c) for c in expand(configs)) and any(
        fnmatch.fnmatchcase(key, k.replace('[', '[[]').replace('[[][*]', '[[]*]'))
        for k in expand(keys))


def snapshot():
    return json.loads(SNAPSHOT.read_text())


@functools.lru_cache(maxsize=None)  # read-only: loaded once for the tests below
def merged(config):
    cfg = Config.fromfile(ROOT / config).to_dict()
    # the snapshot was written as JSON: tuples are lists there
    return json.loads(json.dumps({key: cfg[key] for key in COMPARED if key in cfg},
                                 default=repr))


@pytest.mark.parametrize('config', sorted(snapshot()))
def test_the_merged_config_is_the_one_of_its_old_path(config):
    before = snapshot()[config]['merged']
    unexplained = [key for key in differences(before, merged(config))
                   if not any(matches(pattern, config, key) for pattern in CHANGED)]
    assert unexplained == [], f'{config} (was {snapshot()[config]["before"]})'


def test_every_stated_change_is_seen():
    seen = {pattern: 0 for pattern in CHANGED}
    for config, entry in snapshot().items():
        for key in differences(entry['merged'], merged(config)):
            for pattern in CHANGED:
                seen[pattern] += matches(pattern, config, key)
    assert 0 not in seen.values(), [pattern for pattern, count in seen.items() if not count]


def test_no_config_was_lost():
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
               if '_base_' not in p.parts}
    assert set(snapshot()) <= shipped
