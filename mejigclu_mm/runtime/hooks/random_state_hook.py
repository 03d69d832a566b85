"""Make ``--resume`` repeat the uninterrupted run: random states in the checkpoint, seeded data."""
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from mejigclu_mm.runtime.random_states import (SeededSampleFetch, capture_random_states,
                                               restore_random_states)
from mmpretrain.registry import HOOKS

CHECKPOINT_KEY = 'random_states'


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random number generators with every checkpoint and restore them on resume.

    Without it a run killed in epoch 3 and resumed from ``epoch_2.pth``
    repeats epochs 1-2 but not epoch 3 (mmengine 0.10.7 reseeds on resume and its default
    ``worker_init_fn`` seeds fresh workers from the seed alone). With it the per-iteration
    losses and the weights of the resumed run equal the uninterrupted run's
    (``tests/tools/test_train_resume.py``). Every config lists it
    (``configs/_base_/run_guards.py``). It:

    - stores the main process's python / numpy / torch / CUDA generator states of every rank in
      the checkpoint under ``'random_states'`` (tensors, ints, tuples: loadable with
      ``weights_only=True``), and puts them back in ``before_train`` of a resumed run, after
      mmengine's own reseeding and after ``before_train`` of higher-priority hooks;
    - for epoch-based loops, makes each training sample's augmentation depend only on
      ``(seed, epoch, index)`` (:class:`SeededSampleFetch`), so fresh or persistent workers,
      any ``num_workers`` and any number of processes draw the same augmentations, different in
      every epoch. Iteration-based loops keep mmengine's worker seeding (none of the shipped
      configs uses one; their exact resume is not checked);
    - gives the data loaders their own ``torch.Generator``, so that creating a loader iterator
      (which draws a base seed) does not move the main process's torch stream: a resumed run
      creates its persistent iterator at another point than the uninterrupted run did.

    Exact for resuming from the epoch-end checkpoints of epoch-based loops (what the shipped
    configs write). A checkpoint written without this hook resumes as before, with a warning.
    Everything happens in ``before_train`` and later, so a test-only run that lists the hook
    (a dumped training config) never builds the training set for it.

    Args:
        seed_samples (bool): Seed every training sample from ``(seed, epoch, index)``.
            Defaults to True.
    """

    # After every other before_train (their draws are overwritten by the restore, as the
    # uninterrupted run made them before the states were saved), and in after_train_epoch just
    # before CheckpointHook (VERY_LOW = 90), which saves the checkpoint there.
    priority = 85

    def __init__(self, seed_samples: bool = True):
        self.seed_samples = seed_samples
        self.clock = None
        self._gathered = None  # (iteration, per-rank states) captured in after_train_epoch
        self._loaded = None

    def before_train(self, runner) -> None:
        # Here rather than in before_run, which a test-only run calls too: asking it for the
        # training dataloader would build the training set.
        self._seed_data(runner)
        self._restore(runner)

    def _seed_data(self, runner) -> None:
        """Own generators for the loaders; per-sample seeding of the training set."""
        loaders = [runner.train_dataloader]
        if runner.val_loop is not None and hasattr(runner.val_loop, 'dataloader'):
            loaders.append(runner.val_loop.dataloader)
        for loader in loaders:
            if getattr(loader, 'generator', 'absent') is None:
                loader.generator = torch.Generator().manual_seed(runner.seed)
        if not self.seed_samples or not isinstance(runner.train_loop, EpochBasedTrainLoop):
            return
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, '__dict__'):
            runner.logger.warning(f'RandomStateHook: cannot seed samples of a {type(dataset)} '
                                  '(no instance attributes); resume may not be exact')
            return
        if '__getitems__' in vars(dataset):
            return  # already installed (a second train() call)
        self.clock = torch.tensor([runner.seed, runner.epoch], dtype=torch.int64).share_memory_()
        dataset.__getitems__ = SeededSampleFetch(dataset, self.clock)
        runner.logger.info('RandomStateHook: training samples seeded from (seed, epoch, index)')

    def _restore(self, runner) -> None:
        """Put back the generator states of a resumed checkpoint."""
        per_rank, self._loaded = self._loaded, None
        if per_rank is None or (runner.iter == 0 and runner.epoch == 0):
            return  # nothing loaded, or a load_from (fine-tuning) rather than a resume
        if not per_rank:
            runner.logger.warning(
                'RandomStateHook: the resumed checkpoint has no random states (written without '
                'this hook); the run goes on from freshly seeded generators and will not repeat '
                'the uninterrupted run exactly')
            return
        rank, world_size = get_dist_info()
        if len(per_rank) != world_size:
            runner.logger.warning(
                f'RandomStateHook: the checkpoint holds the random states of {len(per_rank)} '
                f'process(es), this run has {world_size}; every process takes those of rank 0')
        restore_random_states(per_rank[rank] if len(per_rank) == world_size else per_rank[0])
        runner.logger.info('RandomStateHook: random states restored from the checkpoint')

    def before_train_epoch(self, runner) -> None:
        if self.clock is not None:
            self.clock[0] = runner.seed
            self.clock[1] = runner.epoch

    def after_train_epoch(self, runner) -> None:
        # Collective: every rank takes part; rank 0 writes the result in before_save_checkpoint.
        if get_dist_info()[1] > 1:
            self._gathered = (runner.iter, all_gather_object(capture_random_states()))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._gathered is not None and self._gathered[0] == runner.iter:
            per_rank = self._gathered[1]
        else:
            per_rank = [capture_random_states()]
        checkpoint[CHECKPOINT_KEY] = dict(per_rank=per_rank)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Applied in before_train: mmengine's resume may reseed after loading.
        self._loaded = list(checkpoint.get(CHECKPOINT_KEY, {}).get('per_rank', []))
