"""Checkpoints that are written whole or not at all, and never at the cost of the previous one."""
import os.path as osp
import shutil
from typing import List, Optional

from mmengine.dist import get_world_size, is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook

from mejigclu_mm.runtime.atomic_write import (atomic_write, remove_quietly, replace_with,
                                              temporary_path)
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that never leaves a run without a complete checkpoint.

    mmengine 0.10.7's hook, with ``max_keep_ckpts``, deletes
    the oldest checkpoint *before* writing the new one, writes the new one in place and then
    ``last_checkpoint``; a save that fails half-way (full disk, quota, a kill) leaves a cut-off
    file, no complete checkpoint and a ``last_checkpoint`` naming a deleted file. Here, on a
    local file system:

    - every checkpoint (``epoch_N.pth`` / ``iter_N.pth`` and the ``save_best`` ones) is written
      to a temporary file in the same folder, flushed, and renamed over its name in one step;
    - ``last_checkpoint`` is replaced the same way, only after the checkpoint is complete;
    - checkpoints beyond ``max_keep_ckpts`` and a superseded best checkpoint are removed only
      after the new checkpoint is complete.

    A failing save raises (the run stops) and leaves the previous checkpoint, a
    ``last_checkpoint`` naming it, and no temporary file. Each checkpoint's ``meta`` also
    records ``global_batch`` (images per step over all processes) and ``world_size``, which
    ``tools/train.py --resume`` compares with the resumed run's. Other storage backends (e.g.
    ``out_dir='s3://...'``) are saved as mmengine does, with a warning. ``tools/train.py`` puts
    this hook in place of ``CheckpointHook`` in every run it starts, keeping the config's
    arguments.

    Args:
        **kwargs: ``CheckpointHook``'s arguments (``interval``, ``by_epoch``,
            ``max_keep_ckpts``, ``save_best``, ``out_dir``, ...), with the same meaning.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        backend = getattr(self.file_backend, 'client', self.file_backend)  # FileClient wraps
        self._atomic = isinstance(backend, LocalBackend)
        if not self._atomic:
            runner.logger.warning(
                f'AtomicCheckpointHook: checkpoints go to {self.out_dir} through '
                f'{type(backend).__name__}, which cannot rename files in one step: they are '
                'written as mmengine writes them (old ones removed first, new ones in place)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        global_batch = _global_batch(runner)
        if global_batch is not None:
            checkpoint.setdefault('meta', {}).update(
                global_batch=global_batch, world_size=get_world_size())

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        runner = getattr(runner, 'unwrapped', runner)  # called back from _save_best_checkpoint
        if not getattr(self, '_atomic', False):
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        dropped: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            kept = [*self.keep_ckpt_ids, step]
            dropped, kept = kept[:-self.max_keep_ckpts], kept[-self.max_keep_ckpts:]
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(kept)
            # before saving, as mmengine does: the checkpoint's message hub lists itself
            runner.message_hub.update_info('keep_ckpt_ids', kept)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_atomically(runner, self.out_dir, filename,
                              save_optimizer=self.save_optimizer,
                              save_param_scheduler=self.save_param_scheduler, meta=meta,
                              by_epoch=self.by_epoch, **self.args)
        if not is_main_process():
            return
        with atomic_write(osp.join(runner.work_dir, 'last_checkpoint')) as file:
            file.write(self.last_ckpt)
        for old in dropped:
            _remove(self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not getattr(self, '_atomic', False):
            super()._save_best_checkpoint(runner, metrics)
            return
        backend, deferred = self.file_backend, _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(_AtomicSaves(runner, self), metrics)
        finally:
            self.file_backend = backend
        if is_main_process():
            for path in deferred.pending:
                _remove(path)

    def _save_atomically(self, runner, out_dir: str, filename: str, **kwargs) -> None:
        """``runner.save_checkpoint(out_dir, filename, ...)`` through a temporary file."""
        kwargs.setdefault('file_client_args', self.file_client_args)
        kwargs.setdefault('backend_args', self.backend_args)
        if not is_main_process():  # mmengine saves on the main process only
            runner.save_checkpoint(out_dir, filename, **kwargs)
            return
        path = osp.join(out_dir, filename)
        tmp = temporary_path(path)
        try:
            runner.save_checkpoint(out_dir, osp.basename(tmp), **kwargs)
            replace_with(tmp, path)
        except BaseException:
            remove_quietly(tmp)
            raise


def _remove(path: str) -> None:
    """Remove a checkpoint file (or a folder, as DeepSpeed writes them) if it exists."""
    if osp.isdir(path):
        shutil.rmtree(path)
    else:
        remove_quietly(path)


def _global_batch(runner) -> Optional[int]:
    """Images per training step over all processes, when the training loader tells it."""
    try:
        loader = runner.train_dataloader
    except Exception:  # no training loop (e.g. a test-only runner)
        return None
    batch_size = getattr(loader, 'batch_size', None)
    if batch_size is None:
        batch_size = getattr(getattr(loader, 'batch_sampler', None), 'batch_size', None)
    return None if batch_size is None else int(batch_size) * get_world_size()


class _DeferredRemovals:
    """A file backend whose ``remove`` / ``rmtree`` only note the path (done after the save)."""

    def __init__(self, backend):
        self._backend = backend
        self.pending: List[str] = []

    def remove(self, path) -> None:
        self.pending.append(str(path))

    def rmtree(self, path) -> None:
        self.pending.append(str(path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


class _AtomicSaves:
    """A runner whose ``save_checkpoint`` goes through the hook's temporary-file save."""

    def __init__(self, runner, hook: AtomicCheckpointHook):
        self.unwrapped = runner
        self._hook = hook

    def save_checkpoint(self, out_dir, filename, **kwargs) -> None:
        self._hook._save_atomically(self.unwrapped, out_dir, filename, **kwargs)

    def __getattr__(self, name):
        return getattr(self.unwrapped, name)
