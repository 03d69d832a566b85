"""SegmentationDataCheckHook: the label maps are read as mmseg reads them and compared with the
classes, ignore_index and the heads; label maps that would train on nothing, crash inside torch
or shift every class stop the run before its first step, naming the files and values."""
import shutil

import numpy as np
import pytest
from conftest import ROOT
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mejigclu_mm.runtime.hooks import SegmentationDataCheckHook, TransferDataError
from mejigclu_mm.runtime.hooks.label_maps import check_label_maps, sample_indices
from mejigclu_mm.runtime.hooks.segmentation_data_check_hook import check_model

SCENES = (ROOT / 'configs/mejigclu/benchmarks/mmsegmentation'
          / 'pspnet_r18-cifar_1xb8-6e_fashion-scenes.py')
VOC = (ROOT / 'configs/mejigclu/benchmarks/mmsegmentation'
       / 'pspnet_r50_syncbn_4xb2-100e_voc12aug-512x512.py')


def scene_config(root, **changes):
    cfg = Config.fromfile(SCENES)
    cfg.model.backbone.init_cfg = None
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(num_workers=0, persistent_workers=False, batch_size=4)
        cfg[name].dataset.data_root = f'{root}/'
    cfg.merge_from_dict(changes)
    return cfg


def training_set(cfg):
    from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg.train_dataloader.dataset)


def rewritten(fashion_scenes_root, tmp_path, change):
    """A copy of the scenes whose training label maps are ``change(labels)`` (None: as they
    are)."""
    root = tmp_path / 'scenes'
    shutil.copytree(fashion_scenes_root, root)
    for path in sorted((root / 'labels' / 'train').glob('*.png')):
        labels = np.asarray(Image.open(path))
        if change is not None:
            Image.fromarray(change(labels)).save(path)
    return root


def problems(root, **changes):
    return check_label_maps(training_set(scene_config(root, **changes)), 'training set').problems


def test_the_shipped_scenes_pass_and_the_values_are_said(fashion_scenes_root):
    check = check_label_maps(training_set(scene_config(fashion_scenes_root)), 'training set')
    assert check.problems == []
    assert check.notes[0].startswith('8 label maps, read every one: background ')
    assert check.notes[0].endswith(' % of the pixels')


def test_masks_stored_as_0_and_255_are_refused(fashion_scenes_root, tmp_path):
    """255 is ignore_index: every object pixel ignored, and mmseg logs acc_seg 100."""
    root = rewritten(fashion_scenes_root, tmp_path, lambda labels: np.where(labels > 0, 255, 0)
                     .astype(np.uint8))
    [problem] = problems(root)
    assert problem.startswith("the label maps hold class 'background' and ignore_index 255 "
                              'only (')
    assert 'masks stored as 0 / 255?' in problem


def test_values_above_the_classes_are_named_with_a_file(fashion_scenes_root, tmp_path):
    def relabel(labels):  # the highest label of each map becomes 12 (of 11 classes)
        return np.where(labels == labels.max(), 12, labels).astype(np.uint8)

    root = rewritten(fashion_scenes_root, tmp_path, relabel)
    [problem] = problems(root)
    assert problem.startswith('value 12 is neither a class (0-10: 11 classes) nor '
                              f'ignore_index 255 (e.g. {root}/labels/train/')


@pytest.mark.parametrize('render, message', [
    (lambda labels: np.stack([labels] * 3, -1).astype(np.uint8), '3 equal channels'),
    (lambda labels: np.asarray(Config.fromfile(SCENES).metainfo.palette, np.uint8)[labels],
     "the colours of the dataset's palette"),
])
def test_colour_label_maps_are_refused(fashion_scenes_root, tmp_path, render, message):
    root = rewritten(fashion_scenes_root, tmp_path, render)
    [problem] = problems(root)
    assert problem.startswith(f'8 of the 8 label maps read have {message}')
    assert f'{root}/labels/train/000000.png' in problem


def test_16_bit_values_and_another_size_than_the_image(fashion_scenes_root, tmp_path):
    root = rewritten(fashion_scenes_root, tmp_path,
                     lambda labels: np.pad(labels, ((0, 4), (0, 0))).astype(np.uint16) * 300)
    found = problems(root)
    assert any(p.startswith('8 of the 8 label maps read have values above 255') for p in found)
    assert any('another size than their image' in p and '64 x 68 px' in p for p in found)


def test_reduce_zero_label_beside_a_background_class_is_refused(fashion_scenes_root):
    found = problems(fashion_scenes_root, **{'train_dataloader.dataset.reduce_zero_label': True})
    assert any(p.startswith("reduce_zero_label=True makes label 0 ignored and shifts every "
                            "other label down by one, but the first class is 'background'")
               for p in found)


def test_the_voc_config_passes_on_voc_label_maps(voc_segmentation_root):
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(VOC)
    with DefaultScope.overwrite_default_scope('mmseg'):
        for dataset_cfg in cfg.train_dataloader.dataset.datasets:
            dataset = DATASETS.build(dict(dataset_cfg, data_root=str(voc_segmentation_root)))
            check = check_label_maps(dataset, 'training set')
            assert check.problems == [] and len(dataset.metainfo['classes']) == 21


def test_sampling_takes_all_of_a_small_set_and_spreads_over_a_large_one():
    assert sample_indices(5, 200) == [0, 1, 2, 3, 4]
    picked = sample_indices(10_000, 200)
    assert len(picked) == 200 and picked[0] == 0 and picked[-1] == 9999
    assert max(np.diff(picked)) - min(np.diff(picked)) <= 1


def test_heads_and_padding_that_disagree_with_the_data(fashion_scenes_root):
    from mmseg.registry import MODELS
    cfg = scene_config(fashion_scenes_root)
    cfg.model.decode_head.num_classes = 10
    cfg.model.auxiliary_head.ignore_index = 0
    cfg.model.data_preprocessor.seg_pad_val = 0
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    found = check_model(model, training_set(cfg)).problems
    assert found[0] == ('model.decode_head.num_classes is 10 but the dataset has 11 classes '
                        '(background, T-shirt/top, Trouser, Pullover, Dress, Coat and 5 more): '
                        'set num_classes=11')
    assert found[1].startswith("model.auxiliary_head.ignore_index is 0 but the dataset's is 255")
    assert found[2] == ("model.data_preprocessor.seg_pad_val is 0, not ignore_index 255: padded "
                        "pixels would be labelled as 'background'. Set seg_pad_val=255")


@pytest.mark.slow
def test_the_hook_stops_a_run_before_its_first_step(fashion_scenes_root, tmp_path):
    root = rewritten(fashion_scenes_root, tmp_path, lambda labels: np.where(labels > 0, 255, 0)
                     .astype(np.uint8))
    cfg = scene_config(root, work_dir=str(tmp_path / 'work'))
    assert {'type': 'mmpretrain.SegmentationDataCheckHook'} in cfg.custom_hooks
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferDataError, match=f'training set .*{root}/labels/train.*masks '
                       'stored as 0 / 255'):
        runner.train()
    assert runner.iter == 0 and not list((tmp_path / 'work').glob('*.pth'))
    assert sum(isinstance(h, SegmentationDataCheckHook) for h in runner.hooks) == 1
