"""Refuse a training run whose data cannot give the steps its model needs, before its first step."""
from typing import Iterator, List

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mejigclu_mm.datasets.transforms import JigsawSplit
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class DataloaderCheckHook(Hook):
    """Check the data against the model before the first step, with errors naming the values.

    mmengine starts a run whatever the data: a training set smaller than one global batch with
    ``drop_last=True`` runs 0 iterations, exits 0 and saves an untrained checkpoint; an
    incomplete last batch reaches a head that needs the whole global batch only at the end of
    the first epoch. Checked here, in ``before_train``:

    - the training set holds at least one global batch (batch size x processes);
    - a head with ``num_classes`` (``PatchClassificationHead``: one class per image of the
      global batch) gets complete batches (the batch sampler, or ``drop_last=True``, drops the
      last one);
    - the photometric recipe is set in one place only: the data preprocessor (device) or
      ``JigsawSplit`` (CPU fallback); set in both, every patch would be augmented twice.

    What is checked where it is used is not checked again here: the heads refuse a grid or a
    number of classes that the montages do not have at the first step, ``JigsawSplit``'s CPU
    recipe refuses images not loaded as RGB.

    Runs in ``before_train``, not in ``before_run``, which a test-only run of a dumped
    training config calls too: asking it for the training dataloader would build the training
    set. The checks raise ``ValueError``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._check_batch(loader, model)
        for split in _jigsaw_splits(loader.dataset):
            self._check_recipe_place(split, model)

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
            if getattr(head, 'num_classes', None) is not None and \
                    loader.batch_sampler is not None and \
                    not getattr(loader.batch_sampler, 'drop_last', True):
                raise ValueError(
                    f'model.heads.{name} needs {global_batch} images in every step, but the '
                    'dataloader keeps an incomplete last batch: set train_dataloader.drop_last='
                    'True (or use DisjointSubsetBatchSampler, which drops it itself)')

    @staticmethod
    def _check_recipe_place(split: JigsawSplit, model) -> None:
        if split.photometric is not None and \
                getattr(model.data_preprocessor, 'photometric', None) is not None:
            raise ValueError(
                'the photometric recipe is set twice: in the pipeline (JigsawSplit(photometric='
                f'{split.photometric}), applied on the CPU) and in the data preprocessor '
                '(model.data_preprocessor.photometric, applied on the device). Patches would be '
                'augmented twice: set it in one place (model.data_preprocessor.photometric=None '
                'for the CPU fallback)')


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
