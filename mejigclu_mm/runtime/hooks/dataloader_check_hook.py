"""Refuse a training run whose data and model disagree, before its first step."""
from typing import Iterator, List

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mejigclu_mm.datasets.samplers import DisjointSubsetBatchSampler
from mejigclu_mm.datasets.transforms import JigsawSplit
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class DataloaderCheckHook(Hook):
    """The one place that checks what the config states twice, with errors naming the values.

    mmengine starts a run whatever the data, so a training set
    smaller than one global batch with ``drop_last=True`` runs 0 iterations, exits 0 and saves
    an untrained checkpoint; and JigClu / MEJigClu settings that live in the pipeline and in the
    model must agree, or labels and colours go silently wrong. Checked here
    (``tools/train.py`` adds this hook to every run):

    - the training set holds at least one global batch (batch size x processes);
    - a head with ``num_classes`` meant as the global batch (``PatchClassificationHead``) has
      exactly batch size x processes classes (= ``DisjointSubsetBatchSampler``'s subsets), and
      every batch is complete (the batch sampler, or ``drop_last=True``, drops the last one);
    - a head with a ``grid`` (``LocationHead``) has the grid of the pipeline's ``JigsawSplit``;
    - the photometric recipe is set in one place only: the data preprocessor (device) or
      ``JigsawSplit`` (CPU fallback);
    - a ``JigsawSplit`` that applies the recipe on the CPU reads the channels in the order the
      data preprocessor assumes (``channel_order='bgr'`` with ``to_rgb=True``, 'rgb' with False).

    Runs in ``before_train``, before the first step or checkpoint (not in ``before_run``, which
    a test-only run of a dumped training config calls too: asking it for the training
    dataloader would build the training set). The checks raise ``ValueError``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._check_batch(loader, model)
        splits = list(_jigsaw_splits(loader.dataset))
        for split in splits:
            self._check_split(split, model)

    @staticmethod
    def _check_batch(loader, model) -> None:
        dataset_size = len(loader.dataset)
        world_size = get_world_size()
        batch_size = loader.batch_size
        if batch_size is None:  # a batch sampler decides; its batch_size when it has one
            batch_size = getattr(loader.batch_sampler, 'batch_size', None)
        if batch_size is None:
            return
        global_batch = batch_size * world_size
        if dataset_size < global_batch:
            raise ValueError(
                f'the training set has {dataset_size} images, fewer than one global batch of '
                f'{global_batch} (train_dataloader.batch_size {batch_size} x {world_size} '
                f'processes): no training step could run. Add images or lower the batch size.')
        for name, head in getattr(model, 'heads', {}).items():
            classes = getattr(head, 'num_classes', None)
            if classes is not None and loader.batch_sampler is not None and not getattr(
                    loader.batch_sampler, 'drop_last', True):
                raise ValueError(
                    f'model.heads.{name} needs {global_batch} images in every step, but the '
                    'dataloader keeps an incomplete last batch: set train_dataloader.drop_last='
                    'True (or use DisjointSubsetBatchSampler, which drops it itself)')
            if classes is not None and classes != global_batch:
                sampler = ('' if isinstance(loader.batch_sampler, DisjointSubsetBatchSampler)
                           else ' (and DisjointSubsetBatchSampler as the batch sampler)')
                raise ValueError(
                    f'model.heads.{name}.num_classes is {classes} but the global batch is '
                    f'{global_batch} images (train_dataloader.batch_size {batch_size} x '
                    f'{world_size} processes): one class per image of the global batch. Set '
                    f'num_classes={global_batch}{sampler} or change the batch size.')

    @staticmethod
    def _check_split(split: JigsawSplit, model) -> None:
        for name, head in getattr(model, 'heads', {}).items():
            grid = getattr(head, 'grid', None)
            if grid is not None and grid != split.grid:
                raise ValueError(f'model.heads.{name}.grid is {grid} but the pipeline\'s '
                                 f'JigsawSplit cuts {split.grid} x {split.grid} patches; set '
                                 f'the same grid in both')
        preprocessor = model.data_preprocessor
        if split.photometric is None:
            return
        if getattr(preprocessor, 'photometric', None) is not None:
            raise ValueError(
                'the photometric recipe is set twice: in the pipeline (JigsawSplit(photometric='
                f'{split.photometric}), applied on the CPU) and in the data preprocessor '
                '(model.data_preprocessor.photometric, applied on the device). Patches would be '
                'augmented twice: set it in one place (model.data_preprocessor.photometric=None '
                'for the CPU fallback)')
        to_rgb = bool(getattr(preprocessor, '_channel_conversion', False))
        if to_rgb != (split.channel_order == 'bgr'):
            raise ValueError(
                f"JigsawSplit(channel_order='{split.channel_order}') applies colour operations "
                f'on the CPU, but the data preprocessor has to_rgb={to_rgb}, which means the '
                f"images are {'BGR' if to_rgb else 'RGB'}: set channel_order="
                f"'{'bgr' if to_rgb else 'rgb'}' (or to_rgb={not to_rgb})")


def _jigsaw_splits(dataset) -> Iterator[JigsawSplit]:
    """The JigsawSplit transforms of a dataset's pipeline, looking through dataset wrappers."""
    datasets: List = [dataset]
    while datasets:
        current = datasets.pop()
        datasets += list(getattr(current, 'datasets', []) or [])
        if getattr(current, 'dataset', None) is not None:
            datasets.append(current.dataset)
        for transform in getattr(getattr(current, 'pipeline', None), 'transforms', []):
            if isinstance(transform, JigsawSplit):
                yield transform
