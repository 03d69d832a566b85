"""Check a segmentation transfer run's label maps against its config before the first step."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mejigclu_mm.runtime.hooks.label_maps import MAX_LABEL_MAPS, check_label_maps
from mejigclu_mm.runtime.hooks.transfer_data import DataCheck, leaf_datasets, report, shorten
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class SegmentationDataCheckHook(Hook):
    """Say what a segmentation run's label maps hold, and stop a run whose label maps, classes,
    ``ignore_index`` or heads disagree, before the first step.

    mmseg trains on whatever the label maps hold: masks stored as 0 / 255 train with every
    object pixel ignored (``acc_seg 100.0``), values above the classes and colour label maps
    crash inside torch without the file or the value, ``reduce_zero_label=True`` beside a
    'background' class shifts every label by one. In ``before_train`` this hook reads the label
    maps of the built training and validation datasets as mmseg reads them (all of a set of
    at most ``max_label_maps``, else that many evenly spaced), logs the share of each value,
    and raises :class:`TransferDataError` naming the files and values when:

    - a label map has several channels (a colour image), values above 255, or another size
      than its image;
    - a value is neither a class nor ``ignore_index``;
    - the maps hold at most one class besides ``ignore_index`` (masks stored as 0 / 255);
    - ``reduce_zero_label=True`` and the first class is a background;
    - a decode / auxiliary head has another ``num_classes`` than the dataset has classes, or
      another ``ignore_index``; the data preprocessor pads labels with another value than
      ``ignore_index``; an ``IoUMetric`` ignores another index.

    Used from mmseg's scope as ``dict(type='mmpretrain.SegmentationDataCheckHook')``.

    Args:
        max_label_maps (int): Label maps read per dataset. Defaults to 200.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_label_maps: int = MAX_LABEL_MAPS):
        self.max_label_maps = max_label_maps

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        loops = [('training set', runner.train_loop)]
        if runner.val_loop is not None:
            loops.append(('validation set', runner.val_loop))
        checks, datasets = [], []
        for split, loop in loops:
            for dataset in leaf_datasets(loop.dataloader.dataset):
                checks.append(check_label_maps(dataset, split, self.max_label_maps))
                datasets.append(dataset)
        checks.append(check_model(model, datasets[0]))
        if runner.val_loop is not None:
            checks.append(check_metrics(runner.val_loop.evaluator, datasets[-1]))
        report(checks, runner.logger, type(self).__name__)


def check_model(model, dataset) -> DataCheck:
    """The decode / auxiliary heads and the data preprocessor against the dataset's classes and
    ``ignore_index``."""
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    classes = tuple(dataset.metainfo.get('classes') or ())
    ignore = int(getattr(dataset, 'ignore_index', 255))
    check = DataCheck('model')
    heads = [(name, module) for name, module in model.named_modules()
             if isinstance(module, BaseDecodeHead)]
    for name, head in heads:
        if head.num_classes != len(classes):
            check.problems.append(
                f'model.{name}.num_classes is {head.num_classes} but the dataset has '
                f'{len(classes)} classes ({shorten(list(classes), 6)}): set '
                f'num_classes={len(classes)}')
        if head.ignore_index != ignore:
            check.problems.append(
                f'model.{name}.ignore_index is {head.ignore_index} but the dataset\'s is '
                f'{ignore}: pixels meant to be ignored would be trained as a class (or crash '
                'the loss). Set the same ignore_index in both')
    pad = getattr(getattr(model, 'data_preprocessor', None), 'seg_pad_val', ignore)
    if pad != ignore:
        label = f'as {classes[pad]!r}' if 0 <= pad < len(classes) else 'with no class'
        check.problems.append(
            f'model.data_preprocessor.seg_pad_val is {pad}, not ignore_index {ignore}: padded '
            f'pixels would be labelled {label}. Set seg_pad_val={ignore}')
    check.note(f'{len(heads)} decode / auxiliary heads for the {len(classes)} classes, '
               f'ignore_index {ignore}')
    return check


def check_metrics(evaluator, dataset) -> DataCheck:
    """The IoU metrics' ``ignore_index`` against the validation set's."""
    from mmseg.evaluation import IoUMetric
    ignore = int(getattr(dataset, 'ignore_index', 255))
    check = DataCheck('val_evaluator')
    for metric in getattr(evaluator, 'metrics', []):
        if isinstance(metric, IoUMetric) and metric.ignore_index != ignore:
            check.problems.append(
                f'IoUMetric(ignore_index={metric.ignore_index}) but the validation set\'s '
                f'ignore_index is {ignore}: the ignored pixels would count as a class')
    check.note('ignore_index as the validation set\'s')
    return check
