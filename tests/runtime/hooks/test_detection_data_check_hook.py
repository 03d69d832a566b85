"""DetectionDataCheckHook: what mmdet keeps of a COCO / VOC annotation set is said, and data
that disagrees with the config stops the run before its first step, naming the file, the
classes and the counts (mmdet dropped such boxes and classes without a word, or crashed)."""
import collections
import json

import pytest
from conftest import ROOT
from mmengine.config import Config
from mmengine.runner import Runner

from mejigclu_mm.runtime.hooks import DetectionDataCheckHook, TransferDataError
from mejigclu_mm.runtime.hooks.detection_annotations import check_coco, check_voc
from mejigclu_mm.runtime.hooks.detection_data_check_hook import check_detection_config, check_heads
from mejigclu_mm.runtime.hooks.transfer_data import report

SCENES = (ROOT / 'configs/mejigclu/benchmarks/mmdetection'
          / 'faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py')
CLASSES = Config.fromfile(ROOT / 'configs/_base_/datasets/fashion-scenes_detection.py'
                          ).metainfo.classes


@pytest.fixture
def scenes(fashion_scenes_root):
    """The scenes' training annotations (real garments, 10 classes) as a dict."""
    return json.loads((fashion_scenes_root / 'annotations' / 'train.json').read_text())


def written(tmp_path, content, name='train.json'):
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return str(path)


def test_the_shipped_scenes_pass_and_what_is_kept_is_said(scenes, tmp_path):
    check = check_coco(written(tmp_path, scenes), CLASSES, True, dict(filter_empty_gt=True))
    boxes = len(scenes['annotations'])
    assert check.problems == []
    assert check.notes[0] == (f'{len(scenes["images"])} images, {boxes} boxes; kept {boxes} '
                              f'boxes of {len({a["category_id"] for a in scenes["annotations"]})}'
                              ' classes')


def test_category_names_that_differ_stop_the_run_naming_them(scenes, tmp_path):
    """A category written in lower case ('Coat' as 'coat'): mmdet dropped its boxes and
    numbered the classes after it as the ones before them."""
    counts = collections.Counter(a['category_id'] for a in scenes['annotations'])
    category = next(c for c in scenes['categories'] if c['id'] == counts.most_common(1)[0][0])
    name, category['name'] = category['name'], category['name'].lower()
    path = written(tmp_path, scenes)
    check = check_coco(path, CLASSES)
    [problem] = check.problems
    assert f"the classes {name!r} (closest: {name.lower()!r}) of metainfo.classes are no " \
        'category of the file' in problem
    lost = counts[category['id']]
    assert f'dropped {lost} boxes of categories metainfo.classes does not name: ' \
        f'{name.lower()} ({lost})' in check.notes
    with pytest.raises(TransferDataError, match=f'{path}: the classes {name!r}'):
        report([check], _Logger(), 'DetectionDataCheckHook')


class _Logger:
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(('info', text))

    def warning(self, text):
        self.lines.append(('warning', text))


def test_categories_in_another_order_stop_the_run(scenes, tmp_path):
    scenes['categories'] = scenes['categories'][::-1]
    [problem] = check_coco(written(tmp_path, scenes), CLASSES).problems
    assert 'the file lists the categories in another order (Ankle boot, Bag' in problem


def test_boxes_mmdet_drops_are_counted_and_most_dropped_stop_the_run(scenes, tmp_path):
    """Boxes written [x1, y1, x2, y2] (here shifted beyond the 64 px image) or of no size:
    mmdet dropped them and kept the images as background."""
    anns = scenes['annotations']
    for ann in anns[:-2]:
        x, y, w, h = ann['bbox']
        ann['bbox'] = [x + 64, y, w, h]
    anns[-2]['bbox'][2] = 0.5
    check = check_coco(written(tmp_path, scenes), CLASSES, True, dict(filter_empty_gt=True))
    outside = len(anns) - 2
    assert (f'dropped {outside} boxes outside the image (or of no area in it) (e.g. annotation '
            f'{anns[0]["id"]}: bbox {anns[0]["bbox"]} in a 64 x 64 image)') in check.notes
    assert any(note.startswith('dropped 1 boxes of zero or negative size') for note in check.notes)
    assert any(p.startswith(f'{outside + 1} of the {len(anns)} boxes of the config\'s classes '
                            'are dropped') for p in check.problems)
    assert any('images kept as background: every box of theirs was dropped' in note
               for note in check.notes)
    assert check.dropped


def test_images_without_annotations_are_counted(scenes, tmp_path):
    dropped = {a['image_id'] for a in scenes['annotations'][:3]}
    scenes['annotations'] = [a for a in scenes['annotations'] if a['image_id'] not in dropped]
    check = check_coco(written(tmp_path, scenes), CLASSES, True, dict(filter_empty_gt=True))
    assert f'dropped {len(dropped)} images without an annotation of the classes ' \
        '(filter_cfg.filter_empty_gt=True)' in check.notes
    assert f'the training set keeps {len(scenes["images"]) - len(dropped)} of the ' \
        f'{len(scenes["images"])} images' in check.notes
    validation = check_coco(written(tmp_path, scenes), CLASSES, training=False)
    assert not any('images' in note and 'dropped' in note for note in validation.notes)


def scene_config(root, ann_file=None, **changes):
    cfg = Config.fromfile(SCENES)
    cfg.model.backbone.init_cfg = None
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(num_workers=0, persistent_workers=False, batch_size=4)
        cfg[name].dataset.data_root = f'{root}/'
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = f'{root}/annotations/val.json'
    if ann_file:
        cfg.train_dataloader.dataset.ann_file = ann_file
    cfg.merge_from_dict(changes)
    return cfg


def test_a_file_without_annotations_is_named_before_mmdet_crashes(scenes, fashion_scenes_root,
                                                                  tmp_path):
    """mmdet filters every image out and mmengine fails building the dataset with 'need at
    least one array to concatenate' (before any hook); the config check names the file."""
    scenes['annotations'] = []
    path = written(tmp_path, scenes)
    cfg = scene_config(fashion_scenes_root, path)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'), pytest.raises(
            ValueError, match='need at least one array to concatenate'):
        Runner.build_dataloader(cfg.train_dataloader)  # what mmengine does first
    checks = check_detection_config(cfg)
    with pytest.raises(TransferDataError, match=f'{path}.*no box of the classes is left'):
        report(checks, _Logger(), 'DetectionDataCheckHook')


def test_a_head_with_other_classes_than_the_data_is_refused(fashion_scenes_root):
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = scene_config(fashion_scenes_root)
    cfg.model.roi_head.bbox_head.num_classes = 7
    [problem] = check_heads(MODELS.build(cfg.model), CLASSES).problems
    assert problem.startswith('model.roi_head.bbox_head.num_classes is 7 but the dataset has 10 '
                              'classes (T-shirt/top, Trouser')
    assert 'Target ... is out of bounds' in problem and problem.endswith('Set num_classes=10')


def voc_files(voc_format_root, year='2007'):
    return sorted(str(p) for p in (voc_format_root / f'VOC{year}' / 'Annotations').glob('*.xml'))


def test_a_voc_set_of_other_class_names_and_boxes_of_no_area(voc_format_root, tmp_path):
    files = voc_files(voc_format_root)
    assert check_voc(files, ('Tree', )).problems == []
    [problem] = check_voc(files, ('tree', )).problems
    assert problem.startswith('no object of the files is of a class of metainfo.classes '
                              '(their names: Tree (')
    broken = tmp_path / 'broken.xml'
    text = open(files[0]).read()
    start = text.index('<xmax>') + len('<xmax>')
    broken.write_text(text[:start] + '0' + text[text.index('</xmax>'):])
    [problem] = check_voc([str(broken)], ('Tree', )).problems
    assert problem.startswith(f'1 boxes have no area (xmax <= xmin or ymax <= ymin; e.g. '
                              f'{broken}: Tree')


@pytest.mark.slow
def test_the_hook_stops_a_run_before_its_first_step(scenes, fashion_scenes_root, tmp_path):
    scenes['categories'][6]['name'] = 'shirt'
    path = written(tmp_path, scenes)
    cfg = scene_config(fashion_scenes_root, path, work_dir=str(tmp_path / 'work'))
    assert {'type': 'mmpretrain.DetectionDataCheckHook'} in cfg.custom_hooks
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferDataError, match=f"{path}.*'Shirt' \\(closest: 'shirt'\\)"):
        runner.train()
    assert runner.iter == 0 and not list((tmp_path / 'work').glob('*.pth'))


@pytest.mark.slow
def test_the_shipped_configs_pass_on_their_data(fashion_scenes_root, deepforest_coco_root,
                                                tmp_path):
    """Both small configs with their hook on the data their preparation tools write."""
    forest = Config.fromfile(ROOT / 'configs/mejigclu/benchmarks/mmdetection/'
                             'faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py')
    for cfg, root in ((scene_config(fashion_scenes_root), fashion_scenes_root),
                      (forest, deepforest_coco_root)):
        cfg.work_dir = str(tmp_path / root.name)
        cfg.model.backbone.init_cfg = None
        for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[name].update(num_workers=0, persistent_workers=False)
            cfg[name].dataset.data_root = f'{root}/'
        cfg.val_evaluator.ann_file = f'{root}/annotations/val.json'
        runner = Runner.from_cfg(cfg)
        [hook] = [h for h in runner.hooks if isinstance(h, DetectionDataCheckHook)]
        runner.train_loop, runner.val_loop  # built as train() builds them
        hook.before_train(runner)
