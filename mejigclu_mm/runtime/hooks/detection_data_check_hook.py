"""Check a detection transfer run's datasets against its config before the first step."""
import os.path as osp
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mejigclu_mm.runtime.hooks.detection_annotations import MAX_DROPPED, check_coco, check_voc
from mejigclu_mm.runtime.hooks.transfer_data import DataCheck, leaf_datasets, report, shorten
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class DetectionDataCheckHook(Hook):
    """Say what mmdet keeps of a detection run's annotations, and stop a run whose data and
    config disagree, before the first step.

    mmdet drops without a word the boxes of categories whose names differ from
    ``metainfo.classes``, boxes outside their image or of no size, and images without
    annotations; it numbers the classes in the file's order; a head with fewer classes than the
    data crashes inside the loss (``Target 7 is out of bounds``). In ``before_train`` this hook
    reads the annotation files of the built training and validation datasets (COCO JSON or
    Pascal VOC XML, all of them, as mmdet did to build the datasets) and CocoMetric's file,
    logs per file what is kept, dropped and why, and raises :class:`TransferDataError` (naming
    the file, the classes and the counts) when:

    - a class of ``metainfo.classes`` is no category of a COCO file, or the file orders them
      otherwise (every label after it would name another class);
    - a class loses every box of the training set, more than ``max_dropped`` of the boxes of
      the classes are dropped as invalid, or no box is left to train on;
    - no object of a VOC set is of a class, or most are of names the config lacks while some
      of its classes have none;
    - a box or mask head has another ``num_classes`` than the dataset has classes.

    Used from mmdet's scope as ``dict(type='mmpretrain.DetectionDataCheckHook')``. mmengine
    builds the datasets before any hook runs, so a dataset that mmdet cannot build at all
    (every image filtered out: mmengine's ``need at least one array to concatenate``) fails
    before this hook; :func:`check_detection_config` runs the same checks from a config, before
    the datasets are built.

    Args:
        max_dropped (float): The share of the boxes of the classes that may be dropped as
            invalid. Defaults to 0.5.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_dropped: float = MAX_DROPPED):
        self.max_dropped = max_dropped

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        checks = []
        loops = [('training set', runner.train_loop)]
        if runner.val_loop is not None:
            loops.append(('validation set', runner.val_loop))
        classes = None
        for split, loop in loops:
            for dataset in leaf_datasets(loop.dataloader.dataset):
                checks.append(self.check_dataset(dataset, split, split == 'training set'))
            classes = classes or tuple(loop.dataloader.dataset.metainfo.get('classes') or ())
        if runner.val_loop is not None:
            val_sets = leaf_datasets(runner.val_loop.dataloader.dataset)
            read = {osp.realpath(d.ann_file) for d in val_sets
                    if isinstance(getattr(d, 'ann_file', None), str)}
            checks += self.check_metrics(runner.val_loop.evaluator, runner.cfg, classes, read)
        checks.append(check_heads(model, classes))
        report([c for c in checks if c is not None], runner.logger, type(self).__name__)

    def check_dataset(self, dataset, split: str, training: bool) -> Optional[DataCheck]:
        """The check of one built mmdet dataset (COCO or VOC; others are noted unchecked)."""
        from mmdet.datasets import CocoDataset, XMLDataset
        classes = tuple(dataset.metainfo.get('classes') or ())
        filter_cfg = None if getattr(dataset, 'test_mode', False) else dataset.filter_cfg
        name = f'{split} ({type(dataset).__name__}, {dataset.ann_file})'
        if isinstance(dataset, CocoDataset):
            check = check_coco(dataset.ann_file, classes, training, filter_cfg, name,
                               self.max_dropped)
        elif isinstance(dataset, XMLDataset):
            check = check_voc(voc_annotation_files(dataset), classes, training, filter_cfg,
                              name, self.max_dropped)
        else:
            return DataCheck(name, [f'not checked: {type(dataset).__name__} is neither a COCO '
                                    'nor a Pascal VOC dataset'], dropped=True)
        if getattr(dataset, '_fully_initialized', True):
            check.note(f'the dataset holds {len(dataset)} images')
        return check

    def check_metrics(self, evaluator, cfg, classes, read=()) -> List[DataCheck]:
        """CocoMetric's own annotation file (it evaluates against that one, not the
        dataset's) against the classes, unless it is one of the files ``read`` already."""
        from mmdet.evaluation import CocoMetric
        files = [evaluator_cfg.get('ann_file') for evaluator_cfg in _as_list(
            cfg.get('val_evaluator'))]
        checks = []
        for index, metric in enumerate(getattr(evaluator, 'metrics', [])):
            api = getattr(metric, '_coco_api', None)
            if isinstance(metric, CocoMetric) and api is not None:
                name = files[index] if index < len(files) and files[index] else 'its ann_file'
                if osp.realpath(name) in read:
                    continue
                checks.append(check_coco(api.dataset, classes, training=False,
                                         source=f'val_evaluator ({name})',
                                         max_dropped=self.max_dropped))
        return checks


def _leaf_configs(dataset_cfg) -> list:
    """The dataset configs below wrapper configs (``dataset`` / ``datasets`` keys)."""
    if not isinstance(dataset_cfg, dict):
        return []
    inner = list(dataset_cfg.get('datasets') or []) or (
        [dataset_cfg['dataset']] if isinstance(dataset_cfg.get('dataset'), dict) else [])
    return [leaf for child in inner for leaf in _leaf_configs(child)] if inner else [dataset_cfg]


def check_detection_config(cfg, max_dropped: float = MAX_DROPPED) -> List[DataCheck]:
    """The dataset checks of :class:`DetectionDataCheckHook` from a config, before anything is
    built: each dataset is built with ``lazy_init=True`` (its paths and classes resolved, its
    annotations not loaded), so that data mmdet cannot build at all is named too.

    Args:
        cfg (Config): A detection config (mmdet's scope is used).
        max_dropped (float): As for the hook.

    Returns:
        list[DataCheck]: One per dataset of the training and validation dataloaders; give them
        to :func:`~mejigclu_mm.runtime.hooks.transfer_data.report` to log and raise them.
    """
    from mmdet.registry import DATASETS
    from mmengine.registry import DefaultScope
    hook, checks = DetectionDataCheckHook(max_dropped), []
    with DefaultScope.overwrite_default_scope('mmdet'):
        for split, key in (('training set', 'train_dataloader'),
                           ('validation set', 'val_dataloader')):
            for dataset_cfg in _leaf_configs((cfg.get(key) or {}).get('dataset')):
                dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True))
                checks.append(hook.check_dataset(dataset, split, split == 'training set'))
    return [check for check in checks if check is not None]


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def voc_annotation_files(dataset) -> List[str]:
    """The XML file of every image an mmdet ``XMLDataset`` lists (its ``ann_file``)."""
    with open(dataset.ann_file) as file:
        ids = [line.strip() for line in file if line.strip()]
    folder = osp.join(dataset.sub_data_root, dataset.ann_subdir)
    return [osp.join(folder, f'{image_id}.xml') for image_id in ids]


def check_heads(model, classes) -> DataCheck:
    """The box and mask heads' ``num_classes`` against the dataset's classes (RPN heads,
    which tell objects from background only, left out)."""
    from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
    from mmdet.models.roi_heads.bbox_heads import BBoxHead
    from mmdet.models.roi_heads.mask_heads import FCNMaskHead
    check = DataCheck('model')
    heads = [(name, module) for name, module in model.named_modules()
             if isinstance(module, (BBoxHead, FCNMaskHead, BaseDenseHead))
             and 'RPN' not in type(module).__name__ and isinstance(
                 getattr(module, 'num_classes', None), int)]
    for name, head in heads:
        if head.num_classes != len(classes):
            why = ('the labels above its classes would crash the loss ("Target ... is out of '
                   'bounds")' if head.num_classes < len(classes) else 'it would predict '
                   'classes that the data and the evaluation do not have')
            check.problems.append(
                f'model.{name}.num_classes is {head.num_classes} but the dataset has '
                f'{len(classes)} classes ({shorten(list(classes), 6)}): {why}. Set '
                f'num_classes={len(classes)}')
    check.note(f'{len(heads)} box / mask heads for the {len(classes)} classes')
    return check
