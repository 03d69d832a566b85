"""Refuse a training run whose data cannot give the steps it promises, before it starts."""
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpretrain.registry import HOOKS
from ...datasets.samplers import DisjointSubsetSampler


@HOOKS.register_module()
class DataloaderCheckHook(Hook):
    """Check the training dataloader against the model before training, with clear errors.

    Not part of the method: a guard. mmengine starts a run whatever the data, so a training set
    smaller than one global batch with ``drop_last=True`` runs 0 iterations, exits 0 and saves
    an untrained checkpoint. For JigClu / MEJigClu the classification head and the
    ``DisjointSubsetSampler`` must also agree on the global batch, or labels silently misalign.
    Checked here (``tools/train.py`` adds this hook to every run):

    - the training set holds at least one global batch (batch size x processes);
    - with a ``DisjointSubsetSampler``: its ``batch_size`` equals the dataloader's, the
      dataloader drops the last incomplete batch;
    - a head with ``num_classes`` meant as the global batch (``PatchClassificationHead``) has
      exactly batch size x processes classes (= the sampler's subsets).

    Runs in ``before_train``, before the first step or checkpoint (not in ``before_run``, which
    a test-only run of a dumped training config calls too: asking it for the training
    dataloader would build the training set). The checks raise ``ValueError`` naming the
    values involved.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        dataset_size = len(loader.dataset)
        world_size = get_world_size()
        batch_size = loader.batch_size
        sampler = loader.sampler
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
        if isinstance(sampler, DisjointSubsetSampler):
            if sampler.batch_size != batch_size:
                raise ValueError(
                    f'DisjointSubsetSampler has batch_size={sampler.batch_size} but '
                    f'train_dataloader.batch_size is {batch_size}: batches would mix subsets. '
                    'Set both to the same value.')
            if not loader.drop_last:
                raise ValueError('DisjointSubsetSampler needs train_dataloader.drop_last=True: '
                                 'an incomplete last batch would miss subsets')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        for name, head in getattr(model, 'heads', {}).items():
            classes = getattr(head, 'num_classes', None)
            if classes is not None and classes != global_batch:
                raise ValueError(
                    f'model.heads.{name}.num_classes is {classes} but the global batch is '
                    f'{global_batch} images (train_dataloader.batch_size {batch_size} x '
                    f'{world_size} processes): one class per image of the global batch. Set '
                    f'num_classes={global_batch} or change the batch size.')
